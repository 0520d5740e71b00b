using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaInputPartitionEventsTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PartitionEvents_AssignedBeforeAnyMessageAndRevokedAfterRunsEnd()
    {
        const int count = 200;
        var topic = await kafka.CreateTopicAsync("partition-events", 2);
        await kafka.ProduceAsync(topic, Enumerable.Range(0, count).Select(i => (i % 2, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var owned = new ConcurrentDictionary<int, bool>();
        var revoked = new ConcurrentQueue<TopicPartition>();
        var violations = new ConcurrentQueue<string>();
        var inFlight = 0;
        var done = 0;
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.PartitionsAssigned = partitions =>
            {
                foreach (var partition in partitions)
                {
                    owned[partition.Partition.Value] = true;
                }
            };
            o.PartitionsRevoked = partitions =>
            {
                if (Volatile.Read(ref inFlight) != 0)
                {
                    violations.Enqueue($"revoked with {inFlight} runs in flight");
                }

                foreach (var partition in partitions)
                {
                    owned.TryRemove(partition.Partition.Value, out _);
                    revoked.Enqueue(partition);
                }
            };
        });

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("events", task => task
            .ReadFrom(input)
            .Do(_ =>
            {
                Interlocked.Increment(ref inFlight);
                if (!owned.ContainsKey(TaskRunContext.Current!.Position.Partition))
                {
                    violations.Enqueue($"message of partition {TaskRunContext.Current.Position.Partition} before its assignment");
                }

                Interlocked.Decrement(ref inFlight);
                if (Interlocked.Increment(ref done) == count)
                {
                    allDone.TrySetResult();
                }
            }))))
        {
            await allDone.Task.WaitAsync(Deadline);
            revoked.Should().BeEmpty("nothing was revoked while the only member ran");
        }

        violations.Should().BeEmpty();
        revoked.Select(p => p.Partition.Value).Should().BeEquivalentTo([0, 1], "stopping gives both partitions up");
        owned.Should().BeEmpty();
    }
}
