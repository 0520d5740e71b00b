using System.Globalization;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaInputAtMostOnceTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_AtMostOnce_CommitsBeforeProcessingAndDoesNotRedeliverAbandonedMessages()
    {
        var topic = await kafka.CreateTopicAsync("at-most-once", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 10).Select(i => (0, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var started = new CountdownEvent(10);
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = groupId;
            o.Delivery = KafkaDelivery.AtMostOnce;
        });
        var engine = await TestEngine.StartAsync(
            kafka,
            mesh => mesh
                .Configure(options => options.DrainTimeout = TimeSpan.Zero)
                .AddTask<Order>("amo", task => task
                    .ReadFrom(input)
                    .Process(async (order, ct) =>
                    {
                        started.Signal();
                        await Task.Delay(Timeout.Infinite, ct); // never finishes: the engine abandons it at stop
                        return order;
                    })));
        await using (engine)
        {
            started.Wait(Deadline).Should().BeTrue();
            kafka.CommittedOffsets(groupId, topic)[0].Should().Be(10, "offsets are committed before the messages are processed");
            await engine.StopAsync();
        }

        engine.Engine.GetStatistics("amo").Abandoned.Should().Be(10);

        // A new member of the group starts after the committed offsets: the abandoned messages are not redelivered.
        var restarted = 0;
        var again = new KafkaInput<Order>(topic, o => o.GroupId = groupId);
        await using (var second = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("amo", task => task
            .ReadFrom(again)
            .Do(_ => Interlocked.Increment(ref restarted)))))
        {
            (await Eventually.HoldsAsync(() => again.AssignedPartitions == 1, Deadline)).Should().BeTrue();
            await kafka.ProduceAsync(topic, [(0, "after", Order.Json(99))]);
            (await Eventually.HoldsAsync(() => second.Engine.GetStatistics("amo").Completed == 1, Deadline)).Should().BeTrue();
        }

        restarted.Should().Be(1, "only the message produced after the restart is read");
    }

    [Fact]
    public async Task Stop_AtMostOnceWithMessagesReadButNotTaken_CommitsBackToTheFirstUntakenOne()
    {
        var topic = await kafka.CreateTopicAsync("at-most-once-stop", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 1_000).Select(i => (0, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        var started = new CountdownEvent(5);
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = groupId;
            o.Delivery = KafkaDelivery.AtMostOnce;
        });
        await using (var engine = await TestEngine.StartAsync(
            kafka,
            mesh => mesh
                .Configure(options => options.DrainTimeout = TimeSpan.Zero)
                .AddTask<Order>("amo-stop", task => task
                    .ReadFrom(input)
                    .WithMaxInFlight(5)
                    .Process(async (order, ct) =>
                    {
                        started.Signal();
                        await Task.Delay(Timeout.Infinite, ct);
                        return order;
                    }))))
        {
            started.Wait(Deadline).Should().BeTrue();
            (await Eventually.HoldsAsync(() => input.MessagesRead == 1_000, Deadline)).Should().BeTrue("the input reads ahead of the engine");
            await engine.StopAsync();
        }

        kafka.CommittedOffsets(groupId, topic)[0].Should().Be(
            5, "the five started runs are lost (at most once), the 995 messages never taken are read again by the next member");
    }
}
