using System.Collections.Concurrent;
using System.Globalization;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaInputDeliveryTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_20000MessagesOver8PartitionsWithRandomLatency_EveryOutputAppearsAndCommitsReachLogEnd()
    {
        const int count = 20_000;
        var inputTopic = await kafka.CreateTopicAsync("orders", 8);
        var outputTopic = await kafka.CreateTopicAsync("enriched", 8);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, count).Select(i => (i % 8, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var written = 0;
        var allWritten = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("enrich", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .WithMaxInFlight(500)
            .Process(async (order, ct) =>
            {
                await Task.Delay(Random.Shared.Next(0, 4), ct);
                return order with { Customer = order.Customer.ToUpperInvariant() };
            })
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id))
            .Do(_ =>
            {
                if (Interlocked.Increment(ref written) == count)
                {
                    allWritten.TrySetResult();
                }
            })));
        await using (engine)
        {
            await allWritten.Task.WaitAsync(Deadline);
            await engine.StopAsync(); // commits the final offsets
        }

        var outputs = kafka.ReadAll(outputTopic, Deadline);
        // Ordered comparison: FluentAssertions' unordered equivalence is quadratic on 20,000 items.
        outputs.Select(o => int.Parse(o.Message.Key, CultureInfo.InvariantCulture)).Order().Should().Equal(Enumerable.Range(0, count));
        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic));
    }

    [Fact]
    public async Task Commit_OneMessageHeldWhileLaterOnesFinish_CommitStaysAtHeldOffsetThenAdvances()
    {
        var topic = await kafka.CreateTopicAsync("held", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 50).Select(i => (0, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new CountdownEvent(49);
        var commits = new BlockingCollection<long>();
        var input = new KafkaInput<Order>(topic, o => o.GroupId = groupId);
        input.Committed += (_, offsets) => commits.Add(offsets.Single().Offset.Value);

        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("hold", task => task
            .ReadFrom(input)
            .WithMaxInFlight(100)
            .Process(async (order, ct) =>
            {
                if (order.Id == "10")
                {
                    await release.Task.WaitAsync(ct);
                }
                else
                {
                    finished.Signal();
                }

                return order;
            })));

        finished.Wait(Deadline).Should().BeTrue("the 49 other messages should finish");

        // Every commit made while offset 10 is unfinished must stay at 10; after a few commit rounds it is exactly 10.
        long committed;
        do
        {
            commits.TryTake(out committed, Deadline).Should().BeTrue("the input commits every 200 ms");
            committed.Should().BeLessThanOrEqualTo(10);
        }
        while (committed < 10);
        kafka.CommittedOffsets(groupId, topic)[0].Should().Be(10);

        release.SetResult();
        do
        {
            commits.TryTake(out committed, Deadline).Should().BeTrue("the commit should advance once offset 10 is done");
        }
        while (committed < 50);
        committed.Should().Be(50);
        kafka.CommittedOffsets(groupId, topic)[0].Should().Be(50);
    }
}
