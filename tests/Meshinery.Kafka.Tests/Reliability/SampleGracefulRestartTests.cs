using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Meshinery.Kafka.Tests.Samples;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// The OrderEnrichment sample as a process, stopped with SIGTERM mid-run (a rolling deployment) and started again: a
/// graceful stop drains what is in flight and commits it, so the restart redoes nothing. The crash counterpart
/// (SIGKILL, where finished but uncommitted work is redone) is in Samples/OrderEnrichmentSampleTests; the longer
/// scenarios (churn, broker outage, request errors) are in bench/Meshinery.Faults.
/// </summary>
[Collection(KafkaTests.Name)]
public partial class SampleGracefulRestartTests(KafkaFixture kafka)
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sample_SigtermMidRunThenRestarted_EveryOrderEnrichedExactlyOnceAndCommitted()
    {
        const int count = 4_000;
        var input = await kafka.CreateTopicAsync("sigterm-orders", 8);
        var output = await kafka.CreateTopicAsync("sigterm-enriched", 8);
        var deadLetters = await kafka.CreateTopicAsync("sigterm-dead-letters", 1);
        var groupId = KafkaFixture.UniqueName("sigterm-group");
        await kafka.ProduceAsync(input, Enumerable.Range(0, count).Select(i => (i % 8, Id(i), Order.Json(i))));
        string[] arguments =
        [
            "--bootstrap-servers", kafka.BootstrapServers, "--input-topic", input, "--output-topic", output,
            "--dead-letter-topic", deadLetters, "--group-id", groupId, "--session-timeout-ms", "6000",
            "--latency-ms", "20", "--max-in-flight", "50",
        ];

        string firstInstance;
        await using (var first = SampleProcess.Start(arguments))
        {
            firstInstance = first.Instance;
            await first.WaitForStderrLineAsync(line => ProcessedSoFar(line) >= count / 4, "the first run to enrich a quarter of the orders", ExitDeadline);
            await TerminateAsync(first.Id);
            (await first.WaitForExitAsync(ExitDeadline)).Should().Be(0, "a SIGTERM stops the sample gracefully: drain, final commit{0}{1}", Environment.NewLine, first.Transcript);
        }

        var committedAtStop = kafka.CommittedOffsets(groupId, input).Values.Sum(v => Math.Max(0, v)); // -1001: none
        committedAtStop.Should().BeInRange(1, count - 1, "the first run stopped part-way, with its work committed");

        await using (var second = SampleProcess.Start([.. arguments, "--exit-when-idle", "2"]))
        {
            (await second.WaitForExitAsync(ExitDeadline)).Should().Be(0, "the restart finishes the rest{0}{1}", Environment.NewLine, second.Transcript);
            second.Summary().Processed.Should().Be(count - committedAtStop, "the restart resumes exactly where the stop committed");
        }

        var outputs = kafka.ReadAll(output, ReadDeadline).Select(m => JsonSerializer.Deserialize<Enriched>(m.Message.Value, JsonSerializerOptions.Web)!).ToList();
        outputs.Select(o => o.Id).Should().OnlyHaveUniqueItems("a graceful stop leaves nothing finished uncommitted, so nothing is redone")
            .And.BeEquivalentTo(Enumerable.Range(0, count).Select(Id), "nothing is lost");
        outputs.Count(o => o.EnrichedBy == firstInstance).Should().Be((int)committedAtStop, "the first run's outputs are exactly what it committed");
        kafka.CommittedOffsets(groupId, input).Should().BeEquivalentTo(kafka.EndOffsets(input));
    }

    private static string Id(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary>SIGTERM, as an orchestrator stops a container (Process.Kill sends only SIGKILL).</summary>
    private static async Task TerminateAsync(int processId)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", processId.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await kill.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        kill.ExitCode.Should().Be(0, "kill -TERM {0} should reach the sample", processId);
    }

    private static long ProcessedSoFar(string line) =>
        ProgressLine().Match(line) is { Success: true } match ? long.Parse(match.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture) : -1;

    [GeneratedRegex(@"^progress\s.*\bprocessed ([\d,]+)")]
    private static partial Regex ProgressLine();

    private sealed record Enriched(string Id, string EnrichedBy);
}
