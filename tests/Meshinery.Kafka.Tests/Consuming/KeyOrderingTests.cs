using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Meshinery.Kafka.Tests.Support;
using Meshinery.TestSupport;

namespace Meshinery.Kafka.Tests.Consuming;

/// <summary>
/// Ordering by the Kafka message key on a real Kafka-protocol broker: the run carries the message key, the messages of
/// one key start in offset order and never overlap, a held key does not hold up the others, and commits stay at the
/// low watermark until the held message finishes.
/// </summary>
[Collection(KafkaTests.Name)]
public class KeyOrderingTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task OrderByKey_KafkaMessageKeys_EachKeyInOffsetOrderWithoutOverlapWhileAHeldKeyHoldsOnlyItself()
    {
        const int Keys = 10;
        const int PerKey = 30;
        const int Count = Keys * PerKey;
        var topic = await kafka.CreateTopicAsync("key-order", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, Count).Select(i => (0, $"key-{i % Keys}", Order.Json(i))));

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersDone = new Arrivals();
        var finished = new Arrivals();
        var present = new ConcurrentDictionary<string, Arrivals>();
        var offsetsByKey = new ConcurrentDictionary<string, ConcurrentQueue<long>>();
        var commits = new BlockingCollection<long>();
        var input = new KafkaInput<Order>(topic, o => o.GroupId = groupId);
        input.Committed += (_, offsets) => commits.Add(offsets.Single().Offset.Value);

        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("key-order", task => task
            .ReadFrom(input)
            .WithMaxInFlight(Count)
            .OrderByKey()
            .Process(async (order, ct) =>
            {
                var context = TaskRunContext.Current!;
                var key = Encoding.UTF8.GetString((byte[])context.Key!);
                var arrivals = present.GetOrAdd(key, _ => new Arrivals());
                arrivals.Enter();
                offsetsByKey.GetOrAdd(key, _ => new ConcurrentQueue<long>()).Enqueue(context.Position.Offset);
                if (context.Position.Offset == 0)
                {
                    await release.Task.WaitAsync(ct); // key-0 is held at its first message
                }
                else
                {
                    await Task.Yield();
                }

                arrivals.Leave();
                if (key != "key-0")
                {
                    othersDone.Arrive();
                }

                finished.Arrive();
                return order;
            })));

        await othersDone.WaitForAsync(Count - PerKey, Deadline);
        offsetsByKey["key-0"].Should().Equal([0L], "the rest of key-0 waits behind its held first message");
        engine.Engine.GetStatistics("key-order").InFlight.Should().Be(PerKey);

        var commitsWhileHeld = commits.ToArray();
        release.SetResult();
        await finished.WaitForAsync(Count, Deadline);
        await engine.StopAsync(); // commits the final offsets

        foreach (var (key, offsets) in offsetsByKey)
        {
            var k = int.Parse(key["key-".Length..], CultureInfo.InvariantCulture);
            offsets.Should().Equal(Enumerable.Range(0, PerKey).Select(i => (long)(i * Keys) + k), $"{key} runs in offset order");
        }

        present.Values.Should().AllSatisfy(a => a.MaxPresent.Should().Be(1));
        // No commit may have happened yet while key-0 was held (the commit interval is short but not a signal): none past 0.
        commitsWhileHeld.Should().NotContain(c => c > 0, "nothing past the held offset 0 is committed before it finishes");
        kafka.CommittedOffsets(groupId, topic).Should().BeEquivalentTo(kafka.EndOffsets(topic));
    }
}
