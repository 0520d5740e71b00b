using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meshinery.Kafka.Tests.Support;
using Xunit.Abstractions;

namespace Meshinery.Kafka.Tests.Samples;

/// <summary>
/// The OrderEnrichment sample driven as other programs drive it: a child process on the shared cluster, given its
/// topics and group on the command line, judged by its exit code, its summary line and what it left in Kafka.
/// </summary>
[Collection(KafkaTests.Name)]
public partial class OrderEnrichmentSampleTests(KafkaFixture kafka, ITestOutputHelper output)
{
    // Generous: each run of the sample starts a .NET process and joins a consumer group on a shared, noisy 2-core machine.
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sample_OrdersAndOneMalformedMessage_EnrichesEveryOrderDeadLettersTheMessageAndCommitsToTheEnd()
    {
        const int count = 2_000;
        const string malformed = "order #1: this is { not JSON";
        var topics = await CreateTopicsAsync("contract");
        var messages = Enumerable.Range(0, count).Select(i => (i % 8, OrderKey(i), Order.Json(i))).ToList();
        messages.Insert(count / 2, (3, "malformed-1", malformed));
        await kafka.ProduceAsync(topics.Input, messages);

        await using var sample = SampleProcess.Start([.. topics.Arguments, "--exit-when-idle", "2", "--latency-ms", "5"]);
        var exitCode = await sample.WaitForExitAsync(ExitDeadline);
        output.WriteLine(sample.Transcript);

        exitCode.Should().Be(0, "the sample ran to idle and committed everything:{0}{1}", Environment.NewLine, sample.Transcript);
        var summary = sample.Summary();
        summary.Processed.Should().Be(count);
        summary.Failed.Should().Be(1);
        summary.DeadLettered.Should().Be(1);
        summary.ElapsedSeconds.Should().BePositive();
        summary.ThroughputPerSecond.Should().BePositive();

        // Every order enriched once, under its own key, with the same id and the enrichment.
        var outputs = kafka.ReadAll(topics.Output, ReadDeadline);
        outputs.Select(o => o.Message.Key).Order(StringComparer.Ordinal).Should()
            .Equal(Enumerable.Range(0, count).Select(OrderKey).Order(StringComparer.Ordinal), "one run, no crash: every order exactly once");
        foreach (var message in outputs)
        {
            var enriched = EnrichedOrder.Parse(message.Message.Value);
            enriched.Id.Should().Be(message.Message.Key);
            enriched.Tier.Should().BeOneOf("bronze", "silver", "gold");
            enriched.PriceWithTax.Should().BeGreaterThan(enriched.Amount);
            enriched.EnrichedBy.Should().Be(sample.Instance);
        }

        // The malformed message: in the dead-letter topic with its original key and bytes, and why it is there.
        var deadLetter = kafka.ReadAll(topics.DeadLetters, ReadDeadline).Should().ContainSingle().Subject;
        deadLetter.Message.Key.Should().Be("malformed-1");
        deadLetter.Message.Value.Should().Be(malformed, "the dead letter keeps the original bytes");
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.ErrorType).Should().Contain("JsonException");
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.ErrorMessage).Should().NotBeNullOrWhiteSpace();
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.Step).Should().Be(ProcessingFailure.ReadStepName);
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.SourceTopic).Should().Be(topics.Input);
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.SourcePartition).Should().Be("3");
        KafkaFixture.Header(deadLetter, DeadLetterHeaders.SourceOffset).Should().Be((count / 2 / 8).ToString(CultureInfo.InvariantCulture));

        kafka.CommittedOffsets(topics.GroupId, topics.Input).Should().BeEquivalentTo(kafka.EndOffsets(topics.Input), "the sample exits only after committing everything it read");
    }

    /// <summary>
    /// Kills the sample with SIGKILL mid-run, starts it again, and checks what at-least-once promises: nothing lost,
    /// and duplicates only where the library allows them.
    /// </summary>
    /// <remarks>
    /// <para>
    /// What the library guarantees: per partition, the committed offset C never passes a message whose run has not
    /// ended (a run ends only after its output is acknowledged by the broker), and a restarted consumer resumes at C.
    /// So the messages processed twice are exactly those whose output was written before the crash but whose offset
    /// was not yet committed: D = |{first-run outputs at offsets ≥ C}|. The test measures C right after the kill (a
    /// dead process commits nothing more) and tells the two runs' outputs apart by <c>enrichedBy</c>.
    /// </para>
    /// <para>
    /// How large can D get? It is NOT bounded by the messages in flight (MaxInFlight), nor by MaxPendingPerPartition
    /// alone. It is (a) the messages that had finished out of order behind an older unfinished one at the last commit
    /// (at most the partition's pending messages: back-pressure keeps them near MaxPendingPerPartition, but checks the
    /// limit only after each consume batch of up to 1,000 messages, so a partition can overshoot it by a batch), plus
    /// (b) every message finished since the last commit: up to throughput × (CommitInterval + one consume-loop turn),
    /// with throughput ≤ MaxInFlight / latency (Little's law). With this test's settings that worst case is far more
    /// than the whole input (term (a) alone is 8 × MaxPendingPerPartition), so it is not asserted: the exact
    /// accounting below is the guarantee, and it is what the library must get right.
    /// </para>
    /// </remarks>
    [Fact]
    public async Task Sample_KilledMidRunThenRestarted_EveryOrderEnrichedAndOnlyUncommittedOnesTwice()
    {
        const int count = 6_000;
        const int partitions = 8;
        const int maxInFlight = 50;
        const int latencyMs = 20;
        const int commitIntervalMs = 250;
        var topics = await CreateTopicsAsync("crash");
        await kafka.ProduceAsync(topics.Input, Enumerable.Range(0, count).Select(i => (i % partitions, OrderKey(i), Order.Json(i))));
        string[] arguments =
        [
            .. topics.Arguments,
            "--latency-ms", latencyMs.ToString(CultureInfo.InvariantCulture),
            "--max-in-flight", maxInFlight.ToString(CultureInfo.InvariantCulture),
            "--commit-interval-ms", commitIntervalMs.ToString(CultureInfo.InvariantCulture),
        ];

        // First run: no --exit-when-idle; killed once it has enriched a few hundred orders (its progress line says so).
        string firstInstance;
        await using (var first = SampleProcess.Start(arguments))
        {
            firstInstance = first.Instance;
            await first.WaitForStderrLineAsync(line => ProcessedSoFar(line) >= 300, "the first run to enrich 300 orders", ExitDeadline);
            first.Kill();
            await first.WaitForExitAsync(ExitDeadline);
            output.WriteLine("first run (killed):" + Environment.NewLine + first.Transcript);
        }

        var committedAtKill = kafka.CommittedOffsets(topics.GroupId, topics.Input).ToDictionary(c => c.Key, c => Math.Max(0, c.Value)); // -1001: none
        var endOffsets = kafka.EndOffsets(topics.Input);

        // Second run: the same group; it resumes at the committed offsets and exits once idle.
        SampleSummary summary;
        string secondInstance;
        await using (var second = SampleProcess.Start([.. arguments, "--exit-when-idle", "2"]))
        {
            secondInstance = second.Instance;
            var exitCode = await second.WaitForExitAsync(ExitDeadline);
            output.WriteLine("second run:" + Environment.NewLine + second.Transcript);
            exitCode.Should().Be(0, "the restarted sample should finish the work:{0}{1}", Environment.NewLine, second.Transcript);
            summary = second.Summary();
        }

        var outputs = kafka.ReadAll(topics.Output, ReadDeadline).Select(m => EnrichedOrder.Parse(m.Message.Value)).ToList();
        outputs.Select(o => o.EnrichedBy).Distinct().Should().BeSubsetOf([firstInstance, secondInstance]);
        var byFirst = outputs.Where(o => o.EnrichedBy == firstInstance).ToList();
        var bySecond = outputs.Where(o => o.EnrichedBy == secondInstance).ToList();

        // Nothing lost: every order has an output.
        outputs.Select(o => o.Id).Distinct().Order(StringComparer.Ordinal).Should()
            .Equal(Enumerable.Range(0, count).Select(OrderKey).Order(StringComparer.Ordinal));

        // Commits never ran ahead: every offset below the committed one had its output written by the first run.
        var firstRunPositions = byFirst.Select(o => (o.SourcePartition, o.SourceOffset)).ToHashSet();
        foreach (var (partition, committed) in committedAtKill)
        {
            Enumerable.Range(0, (int)committed).Where(offset => !firstRunPositions.Contains((partition, offset))).Should()
                .BeEmpty("partition {0} was committed up to {1} before the kill, so those outputs must have been durable", partition, committed);
        }

        // The restart resumed exactly at the committed offsets: it processed every uncommitted message once, nothing else.
        var uncommitted = endOffsets.Sum(e => e.Value - committedAtKill.GetValueOrDefault(e.Key));
        summary.Processed.Should().Be(uncommitted, "the second run reads from the committed offsets to the end");
        bySecond.Should().OnlyContain(o => o.SourceOffset >= committedAtKill.GetValueOrDefault(o.SourcePartition), "nothing committed is processed again");
        bySecond.Select(o => (o.SourcePartition, o.SourceOffset)).Should().OnlyHaveUniqueItems();

        // Duplicates: exactly the orders the first run finished but had not committed.
        var duplicates = outputs.GroupBy(o => o.Id).Sum(g => g.Count() - 1);
        var finishedNotCommitted = byFirst.Count(o => o.SourceOffset >= committedAtKill.GetValueOrDefault(o.SourcePartition));
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"killed after {byFirst.Count} outputs with {committedAtKill.Values.Sum()} offsets committed; the restart processed {summary.Processed}; " +
            $"duplicates {duplicates} = first-run outputs not committed {finishedNotCommitted} (in-flight limit {maxInFlight})"));
        duplicates.Should().Be(finishedNotCommitted, "exactly the messages finished but not committed at the crash are processed twice");
    }

    private static string OrderKey(int i) => i.ToString(CultureInfo.InvariantCulture);

    /// <summary>The "processed N" of a progress line, or -1.</summary>
    private static long ProcessedSoFar(string line)
    {
        var match = ProgressLine().Match(line);
        return match.Success ? long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : -1;
    }

    [GeneratedRegex(@"^progress\s.*\bprocessed ([\d,]+)")]
    private static partial Regex ProgressLine();

    private async Task<SampleTopics> CreateTopicsAsync(string prefix)
    {
        var input = await kafka.CreateTopicAsync(prefix + "-orders", 8);
        var outputTopic = await kafka.CreateTopicAsync(prefix + "-enriched", 8);
        var deadLetters = await kafka.CreateTopicAsync(prefix + "-dead-letters", 1);
        return new SampleTopics(input, outputTopic, deadLetters, KafkaFixture.UniqueName(prefix + "-group"), kafka.BootstrapServers);
    }

    private sealed record SampleTopics(string Input, string Output, string DeadLetters, string GroupId, string BootstrapServers)
    {
        public string[] Arguments =>
        [
            "--bootstrap-servers", BootstrapServers,
            "--input-topic", Input,
            "--output-topic", Output,
            "--dead-letter-topic", DeadLetters,
            "--group-id", GroupId,
            "--session-timeout-ms", "6000", // a restarted instance gets the partitions of the killed one sooner
        ];
    }

    /// <summary>The fields of the sample's output the tests look at.</summary>
    private sealed record EnrichedOrder(string Id, string Tier, decimal Amount, decimal PriceWithTax, string EnrichedBy, int SourcePartition, long SourceOffset)
    {
        public static EnrichedOrder Parse(string json) =>
            JsonSerializer.Deserialize<EnrichedOrder>(json, JsonSerializerOptions.Web)
            ?? throw new FormatException($"Not an enriched order: {json}");
    }
}
