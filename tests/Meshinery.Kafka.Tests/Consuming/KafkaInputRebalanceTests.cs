using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaInputRebalanceTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    // Eager (every partition revoked, then all assigned anew) and incremental (only moving partitions are revoked and
    // assigned): the input must keep its promises under both rebalance protocols.
    [Theory]
    [InlineData("range")]
    [InlineData("cooperative-sticky")]
    public async Task Rebalance_SecondConsumerJoinsAndLeaves_NothingLostAndNoCommitPassesUnfinishedWork(string assignmentStrategy)
    {
        const int count = 3_000;
        var inputTopic = await kafka.CreateTopicAsync("rebalance-in", 4);
        var outputTopic = await kafka.CreateTopicAsync("rebalance-out", 4);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, count).Select(i => (i % 4, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        // Offsets whose runs finished (output durable), per partition, across both members.
        var finished = new ConcurrentDictionary<(int Partition, long Offset), bool>();
        var violations = new ConcurrentQueue<string>();
        var distinctDone = new ConcurrentDictionary<string, bool>();
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var secondDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        KafkaInput<Order> Member(TaskCompletionSource progressed)
        {
            var input = new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId);
            input.Committed += (_, offsets) =>
            {
                foreach (var offset in offsets)
                {
                    for (var o = 0L; o < offset.Offset.Value; o++)
                    {
                        if (!finished.ContainsKey((offset.Partition.Value, o)))
                        {
                            violations.Enqueue($"{offset.TopicPartition} committed at {offset.Offset.Value} but offset {o} had not finished");
                            break;
                        }
                    }
                }
            };
            return input;
        }

        // The first member stalls after 200 messages until the second has processed one, so the rebalance surely
        // happens with runs in flight: the first member's revocation times out on them, and they finish later, after
        // their partitions moved (their completions must then be ignored).
        var firstProcessed = 0;
        void Define(MeshineryBuilder mesh, KafkaInput<Order> input, TaskCompletionSource progressed, bool isFirst) => mesh.AddTask<Order>("member", task => task
            .ReadFrom(input)
            .WithMaxInFlight(50)
            .Process(async (order, ct) =>
            {
                if (isFirst && Interlocked.Increment(ref firstProcessed) > 200)
                {
                    await secondDone.Task.WaitAsync(ct);
                }

                await Task.Delay(Random.Shared.Next(1, 4), ct);
                return order;
            })
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id))
            .Do(order =>
            {
                var position = TaskRunContext.Current!.Position;
                finished[(position.Partition, position.Offset)] = true;
                progressed.TrySetResult();
                if (distinctDone.TryAdd(order.Id, true) && distinctDone.Count == count)
                {
                    allDone.TrySetResult();
                }
            }));

        // Messages redelivered after the rebalances may come after every id was seen once: the first member is done when
        // its commits reach the end of every partition.
        var firstCaughtUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstInput = Member(firstDone);
        firstInput.Committed += (_, _) =>
        {
            var committed = firstInput.CommittedOffsets;
            if (committed.Count == 4 && committed.Values.All(offset => offset == count / 4))
            {
                firstCaughtUp.TrySetResult();
            }
        };
        await using var first = await TestEngine.StartAsync(
            kafka,
            mesh => Define(mesh, firstInput, firstDone, isFirst: true),
            options =>
            {
                options.RevocationTimeout = TimeSpan.FromSeconds(2);
                options.ConsumerConfig["partition.assignment.strategy"] = assignmentStrategy;
            });
        await firstDone.Task.WaitAsync(Deadline);

        // A second member joins: the group rebalances while the first has runs in flight.
        var secondInput = Member(secondDone);
        var second = await TestEngine.StartAsync(
            kafka,
            mesh => Define(mesh, secondInput, secondDone, isFirst: false),
            options => options.ConsumerConfig["partition.assignment.strategy"] = assignmentStrategy);
        await secondDone.Task.WaitAsync(Deadline);
        secondInput.AssignedPartitions.Should().BeGreaterThan(0, "the joining member gets partitions");

        // ...and leaves again: its partitions go back to the first member.
        await second.DisposeAsync();
        await allDone.Task.WaitAsync(Deadline);
        await firstCaughtUp.Task.WaitAsync(Deadline);
        await first.StopAsync();

        violations.Should().BeEmpty();
        var outputs = kafka.ReadAll(outputTopic, Deadline).Select(o => int.Parse(o.Message.Key, CultureInfo.InvariantCulture)).ToHashSet();
        outputs.Order().Should().Equal(Enumerable.Range(0, count), "nothing may be lost across the rebalances");
        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic));
    }

    [Fact]
    public void Acknowledge_AfterPartitionWasRevoked_IsIgnored()
    {
        var state = new PartitionState<Order>(new TopicPartition("topic", 0), new AcknowledgementSignal());
        state.Tracker.Track(0);
        state.Tracker.Track(1);

        state.Revoke();
        state.Acknowledge(new SourcePosition("topic", 0, 0), RunOutcome.Completed);

        state.Tracker.CommittableOffset.Should().Be(0, "a completion from a revoked assignment must not move commits");
        state.Tracker.InFlight.Should().Be(2);
    }

    [Fact]
    public void Acknowledge_AbandonedRun_LeavesOffsetUncommitted()
    {
        var state = new PartitionState<Order>(new TopicPartition("topic", 0), new AcknowledgementSignal());
        state.Tracker.Track(0);

        state.Acknowledge(new SourcePosition("topic", 0, 0), RunOutcome.Abandoned);
        state.Tracker.CommittableOffset.Should().Be(0);

        state.Acknowledge(new SourcePosition("topic", 0, 0), RunOutcome.Dropped);
        state.Tracker.CommittableOffset.Should().Be(1, "dropped and failed items are done: the partition moves on");
    }
}
