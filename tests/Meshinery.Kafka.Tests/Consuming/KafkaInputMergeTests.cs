using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka.Tests.Consuming;

/// <summary>Several topics merged into one task, and the guard against two inputs sharing one group.</summary>
[Collection(KafkaTests.Name)]
public class KafkaInputMergeTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Merge_TwoTopics_EveryMessageOfBothProcessedAndEachTopicCommitted()
    {
        var web = await kafka.CreateTopicAsync("merge-web", 2);
        var shop = await kafka.CreateTopicAsync("merge-shop", 3);
        var outputTopic = await kafka.CreateTopicAsync("merge-out", 2);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(web, Enumerable.Range(0, 100).Select(i => (i % 2, "web-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        await kafka.ProduceAsync(shop, Enumerable.Range(0, 150).Select(i => (i % 3, "shop-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        var input = new KafkaInput<Order>([web, shop], o => o.GroupId = groupId);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("merge", task => task
            .ReadFrom(input)
            .WriteTo(new KafkaOutput<Order>(outputTopic)))))
        {
            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("merge").Finished >= 250, Deadline)).Should().BeTrue();
            input.AssignedPartitions.Should().Be(5, "the partitions of both topics are assigned to the one input");
        }

        var keys = kafka.ReadAll(outputTopic, Deadline).Select(m => m.Message.Key).ToList();
        keys.Should().OnlyHaveUniqueItems().And.HaveCount(250);
        keys.Count(k => k.StartsWith("web-", StringComparison.Ordinal)).Should().Be(100);
        kafka.CommittedOffsets(groupId, web).Should().BeEquivalentTo(kafka.EndOffsets(web));
        kafka.CommittedOffsets(groupId, shop).Should().BeEquivalentTo(kafka.EndOffsets(shop));
    }

    [Fact]
    public async Task Merge_OneTopicsPartitionsMoveToAnotherMember_OtherTopicKeepsRunningAndNothingIsLost()
    {
        var moving = await kafka.CreateTopicAsync("merge-moving", 2);
        var staying = await kafka.CreateTopicAsync("merge-staying", 2);
        var outputTopic = await kafka.CreateTopicAsync("merge-moving-out", 2);
        var groupId = KafkaFixture.UniqueName("group");
        var revoked = new ConcurrentQueue<TopicPartition>();
        void Incremental(KafkaOptions options) => options.ConsumerConfig["partition.assignment.strategy"] = "cooperative-sticky";
        var merged = new KafkaInput<Order>([moving, staying], o =>
        {
            o.GroupId = groupId;
            o.PartitionsRevoked = partitions =>
            {
                foreach (var partition in partitions)
                {
                    revoked.Enqueue(partition);
                }
            };
        });
        await kafka.ProduceAsync(moving, Enumerable.Range(0, 100).Select(i => (i % 2, "m-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        await kafka.ProduceAsync(staying, Enumerable.Range(0, 100).Select(i => (i % 2, "s-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        // Distinct input keys seen by either member (a redelivered message counts once).
        var seen = new ConcurrentDictionary<string, bool>();
        void Record(Order order) => seen.TryAdd(Encoding.UTF8.GetString(TaskRunContext.Current!.KafkaMessage()!.Message.Key), true);

        await using var first = await TestEngine.StartAsync(
            kafka, mesh => mesh.AddTask<Order>("merged", task => task.ReadFrom(merged).Do(Record).WriteTo(new KafkaOutput<Order>(outputTopic))), Incremental);
        (await Eventually.HoldsAsync(() => seen.Count >= 200, Deadline)).Should().BeTrue();

        // A second member of the group reads only the first topic: the sticky assignor balances by moving that topic's
        // partitions to it, and leaves the other topic's where they are.
        var single = new KafkaInput<Order>(moving, o => o.GroupId = groupId);
        await using var second = await TestEngine.StartAsync(
            kafka, mesh => mesh.AddTask<Order>("single", task => task.ReadFrom(single).Do(Record).WriteTo(new KafkaOutput<Order>(outputTopic))), Incremental);
        (await Eventually.HoldsAsync(() => single.AssignedPartitions == 2 && merged.AssignedPartitions == 2, Deadline))
            .Should().BeTrue("the second member takes the partitions of the topic it reads (has {0}; the first has {1})", single.AssignedPartitions, merged.AssignedPartitions);

        revoked.Should().NotBeEmpty().And.OnlyContain(p => p.Topic == moving, "only the moving topic's partitions are revoked; the other keeps running");

        await kafka.ProduceAsync(moving, Enumerable.Range(100, 100).Select(i => (i % 2, "m-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        await kafka.ProduceAsync(staying, Enumerable.Range(100, 100).Select(i => (i % 2, "s-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        (await Eventually.HoldsAsync(() => seen.Count >= 400, Deadline)).Should().BeTrue();
        // Finished counts runs whose writes are acknowledged, which can trail the step that recorded the key.
        (await Eventually.HoldsAsync(() => second.Engine.GetStatistics("single").Finished > 0, Deadline))
            .Should().BeTrue("the moved partition is read by its new owner");
        await second.StopAsync();

        // The second member's last commit may meet the rebalance its leaving starts (the broker then refuses it): the
        // first member gets the partitions back and finishes them from the last commit. Either way all is committed.
        (await Eventually.HoldsAsync(
            () => kafka.CommittedOffsets(groupId, moving).Values.Sum() == 200 && kafka.CommittedOffsets(groupId, staying).Values.Sum() == 200, Deadline))
            .Should().BeTrue("every offset of both topics ends up committed");
        await first.StopAsync();

        kafka.ReadAll(outputTopic, Deadline).Select(m => m.Message.Key).Distinct().Should().HaveCount(400, "nothing is lost");
        kafka.CommittedOffsets(groupId, moving).Should().BeEquivalentTo(kafka.EndOffsets(moving));
        kafka.CommittedOffsets(groupId, staying).Should().BeEquivalentTo(kafka.EndOffsets(staying));
    }

    [Fact]
    public async Task BuildEngine_TwoInputsInOneGroup_FailsNamingBothInputsAndTheFix()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.GroupId = "shared";
            })
            .AddTask<Order>("orders", task => task.ReadFrom(new KafkaInput<Order>("orders")))
            .AddTask<Order>("priority", task => task.ReadFrom(new KafkaInput<Order>("orders-priority"))));
        await using var provider = services.BuildServiceProvider();

        var build = () => provider.GetRequiredService<MeshineryEngine>();

        build.Should().Throw<MeshineryConfigurationException>().Which.Message.Should().Contain(
            "task 'priority', setting GroupId: Kafka input 'orders-priority' uses consumer group 'shared', which Kafka input 'orders' uses too")
            .And.Contain("give each input its own GroupId (for example 'shared-orders-priority')");
    }
}
