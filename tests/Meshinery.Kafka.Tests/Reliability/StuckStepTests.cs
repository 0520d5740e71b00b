using System.Globalization;
using Meshinery.Kafka.Tests.Support;
using Meshinery.TestSupport;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// Steps that never succeed: one that hangs past every timeout (drain, cancellation grace) and one that throws for one
/// key forever. The rest of the work goes on, and the commits never pass the stuck message until it is finished.
/// </summary>
[Collection(KafkaTests.Name)]
public class StuckStepTests(KafkaFixture kafka)
{
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Stop_StepHangsPastEveryTimeout_RestFinishesItsOffsetStaysUncommittedAndTheNextRunRedoesIt()
    {
        const int count = 200;
        var inputTopic = await kafka.CreateTopicAsync("hang-in", 2);
        var outputTopic = await kafka.CreateTopicAsync("hang-out", 2);
        var groupId = KafkaFixture.UniqueName("hang-group");
        var messages = Enumerable.Range(0, count).Select(i => (i % 2, Id(i), Order.Json(i))).ToList();
        const int hungIndex = 100; // partition 0, offset 50
        messages[hungIndex] = (0, "hang", Order.Json(hungIndex).Replace("\"100\"", "\"hang\"", StringComparison.Ordinal));
        await kafka.ProduceAsync(inputTopic, messages);

        using var gate = new ManualResetEventSlim();
        var input = new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId);
        var commitsOfPartition0 = CommitsOf.Record(input, 0);

        var first = await TestEngine.StartAsync(kafka, mesh => mesh
            .Configure(options =>
            {
                options.DrainTimeout = TimeSpan.FromMilliseconds(500);
                options.CancellationGracePeriod = TimeSpan.FromMilliseconds(500);
            })
            .AddTask<Order>("hang", task => task
                .ReadFrom(input)
                .Process(order =>
                {
                    if (order.Id == "hang")
                    {
                        gate.Wait(); // ignores every timeout and the cancellation token, as a stuck legacy call does
                    }

                    return order;
                }, "legacy-call")
                .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id))));
        try
        {
            (await Eventually.HoldsAsync(() => first.Engine.GetStatistics("hang").Finished >= count - 1, ReadDeadline))
                .Should().BeTrue("every message but the hung one should finish");
            (await Eventually.HoldsAsync(() => CommitsOf.Last(input, 0) == 50 && CommitsOf.Last(input, 1) == 100, ReadDeadline))
                .Should().BeTrue("partition 1 is committed to its end and partition 0 up to the hung message");

            await first.StopAsync().Within("the stop, which gives up on the hung run after the drain timeout and the grace period");
            commitsOfPartition0.Should().OnlyContain(c => c <= 50, "no commit may pass the hung message, the final one included");
            kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(new Dictionary<int, long> { [0] = 50, [1] = 100 });
        }
        finally
        {
            gate.Set();
            await first.DisposeAsync();
        }

        // The next run of the group starts at the hung message: it and what finished above it are done again.
        await using (var second = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("hang", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id)))))
        {
            (await Eventually.HoldsAsync(() => second.Engine.GetStatistics("hang").Finished >= 50, ReadDeadline))
                .Should().BeTrue("the second run should redo offsets 50..99 of partition 0");
            await second.StopAsync();
            second.Engine.GetStatistics("hang").Finished.Should().Be(50, "only partition 0 from the hung message on was left uncommitted");
        }

        kafka.ReadAll(outputTopic, ReadDeadline).Select(o => o.Message.Key).Distinct().Should().HaveCount(count, "nothing is lost");
        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic));
    }

    [Fact]
    public async Task Run_StepThrowsForOneKeyForever_EachOfItsMessagesIsDeadLetteredAfterItsAttemptsAndHoldsOnlyItsOwnPartition()
    {
        const int count = 300;
        const int attempts = 4;
        var inputTopic = await kafka.CreateTopicAsync("cursed-in", 3);
        var outputTopic = await kafka.CreateTopicAsync("cursed-out", 3);
        var deadLetterTopic = await kafka.CreateTopicAsync("cursed-dlq", 1);
        var groupId = KafkaFixture.UniqueName("cursed-group");
        var messages = Enumerable.Range(0, count).Select(i => (i % 3, Id(i), Order.Json(i))).ToList();
        int[] cursedIndexes = [30, 151, 272]; // partition 0 offset 10, partition 1 offset 50, partition 2 offset 90
        foreach (var i in cursedIndexes)
        {
            messages[i] = (i % 3, "cursed", Order.Json(i).Replace($"\"{Id(i)}\"", "\"cursed\"", StringComparison.Ordinal));
        }

        await kafka.ProduceAsync(inputTopic, messages);

        // The cursed message of partition 0 waits before its last attempt until the test has checked the commits.
        using var lastAttempt = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var input = new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId);
        var commitsOfPartition0 = CommitsOf.Record(input, 0);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("cursed", task => task
            .ReadFrom(input)
            .WithRetry(attempts, TimeSpan.FromMilliseconds(10))
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .Process(order =>
            {
                if (order.Id != "cursed")
                {
                    return order;
                }

                var run = TaskRunContext.Current!;
                if (run.Attempt == attempts && run.Position.Partition == 0)
                {
                    lastAttempt.Set();
                    release.WaitOrFail("the test to release the last attempt");
                }

                throw new InvalidOperationException("the pricing service refuses key 'cursed'");
            }, "price")
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id)))))
        {
            try
            {
                lastAttempt.WaitOrFail("the last attempt of partition 0's cursed message");
                (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("cursed").Finished >= count - 1, ReadDeadline))
                    .Should().BeTrue("everything else finishes, the other two cursed messages dead-lettered");
                (await Eventually.HoldsAsync(() => CommitsOf.Last(input, 0) == 10 && CommitsOf.Last(input, 1) == 100 && CommitsOf.Last(input, 2) == 100, ReadDeadline))
                    .Should().BeTrue("partitions 1 and 2 are committed to their ends, partition 0 up to its cursed message");
                commitsOfPartition0.Should().OnlyContain(c => c <= 10, "no commit may pass the message still being retried");
            }
            finally
            {
                release.Set();
            }

            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("cursed").Finished >= count, ReadDeadline))
                .Should().BeTrue("the last attempt fails and the message is dead-lettered");
            var statistics = engine.Engine.GetStatistics("cursed");
            statistics.Failed.Should().Be(3);
            statistics.DeadLettered.Should().Be(3);
        }

        var deadLetters = kafka.ReadAll(deadLetterTopic, ReadDeadline);
        deadLetters.Should().HaveCount(3).And.OnlyContain(d => d.Message.Key == "cursed");
        deadLetters.Select(d => KafkaFixture.Header(d, DeadLetterHeaders.SourcePartition) + "/" + KafkaFixture.Header(d, DeadLetterHeaders.SourceOffset))
            .Should().BeEquivalentTo("0/10", "1/50", "2/90");
        deadLetters.Should().OnlyContain(d =>
            KafkaFixture.Header(d, DeadLetterHeaders.Attempts) == attempts.ToString(CultureInfo.InvariantCulture)
            && KafkaFixture.Header(d, DeadLetterHeaders.Step) == "price"
            && KafkaFixture.Header(d, DeadLetterHeaders.ErrorMessage) == "the pricing service refuses key 'cursed'");
        kafka.ReadAll(outputTopic, ReadDeadline).Select(o => o.Message.Key).Should().HaveCount(count - 3).And.NotContain("cursed");
        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic));
    }

    private static string Id(int n) => n.ToString(CultureInfo.InvariantCulture);
}
