using System.Globalization;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaInputBackPressureTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Run_BacklogFarLargerThanLimits_PausesPartitionsAndReadsOnlyUpToTheBound()
    {
        const int backlog = 100_000;
        const int partitions = 2;
        const int maxPending = 200;
        var topic = await kafka.CreateTopicAsync("flood", partitions);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, backlog).Select(i => (i % partitions, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var taskFull = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = 0;
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = groupId;
            o.MaxPendingPerPartition = maxPending;
        });
        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("flood", task => task
            .ReadFrom(input)
            .WithMaxInFlight(50)
            .Process(async (order, ct) =>
            {
                if (Interlocked.Increment(ref entered) == 50)
                {
                    taskFull.TrySetResult();
                }

                await gate.Task.WaitAsync(ct);
                return order;
            })));

        // While processing is stuck, the input fills each partition up to its limit and pauses it.
        (await Eventually.HoldsAsync(() => input.PausedPartitions == partitions, Deadline))
            .Should().BeTrue("both partitions should be paused once they hold {0} pending messages", maxPending);

        // The input may fill and pause both partitions before the poll loop, woken by the first message, gets a core:
        // wait for the task to be full too.
        await taskFull.Task.WaitAsync(Deadline);
        engine.Engine.InFlight.Should().Be(50, "the task's own limit holds");
        Volatile.Read(ref entered).Should().Be(50);

        // Reads stop exactly at the bound, far below the backlog.
        var readWhilePaused = input.MessagesRead;
        readWhilePaused.Should().Be(partitions * maxPending, "a partition is paused the moment it holds its limit");

        // Once processing flows again, the partitions are resumed and paused again as they refill: reading goes on
        // in bounded steps. (librdkafka takes up to about a second to fetch again after a resume, so the test does not
        // wait for the whole backlog.)
        gate.SetResult();
        var goal = 4 * partitions * maxPending;
        (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("flood").Completed >= goal, Deadline))
            .Should().BeTrue("processing should continue past the first pause");
        input.Pauses.Should().BeGreaterThan(partitions, "partitions are resumed and paused again");
        await engine.StopAsync();

        // Every message the engine took was finished before it stopped, and they form a prefix of each partition:
        // the committed offsets account for exactly the completed messages, no more (at-least-once), no fewer.
        var completed = engine.Engine.GetStatistics("flood").Completed;
        kafka.CommittedOffsets(groupId, topic).Values.Sum().Should().Be(completed);
    }
}
