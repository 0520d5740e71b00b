using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Producing;

/// <summary>Keys, partitions and topics on the way out: mapValues keeps partitioning, Key re-keys, Partition and Topic route.</summary>
[Collection(KafkaTests.Name)]
public class KafkaOutputRoutingTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Write_StepMapsOnlyTheValue_KeepsTheInputsKeyAndPartition()
    {
        var inputTopic = await kafka.CreateTopicAsync("map-values-in", 4);
        var outputTopic = await kafka.CreateTopicAsync("map-values-out", 4);
        var groupId = KafkaFixture.UniqueName("group");
        const int count = 200;
        await ProduceByKeyAsync(inputTopic, Enumerable.Range(0, count).Select(i => ("user-" + (i % 23).ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        var inputPartitionOfKey = kafka.ReadAll(inputTopic, Deadline).GroupBy(m => m.Message.Key).ToDictionary(g => g.Key, g => g.Select(m => m.Partition.Value).Distinct().Single());

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("map-values", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .Process(order => order with { Amount = order.Amount * 2 })
            .WriteTo(new KafkaOutput<Order>(outputTopic)))))
        {
            await WaitForFinishedAsync(engine.Engine, "map-values", count);
        }

        var outputs = kafka.ReadAll(outputTopic, Deadline);
        outputs.Should().HaveCount(count);
        outputs.Should().OnlyContain(m => m.Message.Key != null && inputPartitionOfKey[m.Message.Key] == m.Partition.Value,
            "an output written with the input's key lands on the same partition of a topic with as many partitions");
    }

    [Fact]
    public async Task Write_KeyChosen_RepartitionsUserEventsIntoATopicWithMorePartitions()
    {
        // The seed's example: every user's events on one partition of a single-partition stream, re-keyed by user id
        // into a stream with more partitions, where each user's events are all on one partition.
        var eventsTopic = await kafka.CreateTopicAsync("user-events", 1);
        var byUserTopic = await kafka.CreateTopicAsync("user-events-by-user", 6);
        var groupId = KafkaFixture.UniqueName("group");
        const int count = 300;
        await kafka.ProduceAsync(eventsTopic, Enumerable.Range(0, count).Select(i => (0, "event-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("repartition", task => task
            .ReadFrom(new KafkaInput<Order>(eventsTopic, o => o.GroupId = groupId))
            .WriteTo(new KafkaOutput<Order>(byUserTopic, o => o.Key = order => order.Customer)))))
        {
            await WaitForFinishedAsync(engine.Engine, "repartition", count);
        }

        var outputs = kafka.ReadAll(byUserTopic, Deadline);
        outputs.Should().HaveCount(count);
        var partitionsPerUser = outputs.GroupBy(m => m.Message.Key).ToDictionary(g => g.Key, g => g.Select(m => m.Partition.Value).Distinct().Count());
        partitionsPerUser.Should().HaveCount(17).And.OnlyContain(p => p.Value == 1, "all of a user's events are on one partition");
        outputs.Select(m => m.Partition.Value).Distinct().Should().HaveCountGreaterThan(1, "17 users spread over 6 partitions");
        kafka.CommittedOffsets(groupId, eventsTopic)[0].Should().Be(count);
    }

    [Fact]
    public async Task Write_PartitionAndTopicChosen_WritesEachItemWhereItsFunctionsSay()
    {
        var inputTopic = await kafka.CreateTopicAsync("route-in", 2);
        var evenTopic = await kafka.CreateTopicAsync("route-even", 3);
        var oddTopic = await kafka.CreateTopicAsync("route-odd", 5);
        var groupId = KafkaFixture.UniqueName("group");
        const int count = 100;
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, count).Select(i => (i % 2, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        var counts = new List<int>();

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("route", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .WriteTo(new KafkaOutput<Order>(evenTopic, o =>
            {
                o.Topic = order => Id(order) % 2 == 0 ? evenTopic : oddTopic;
                o.Partition = (order, key, partitionCount) =>
                {
                    lock (counts)
                    {
                        counts.Add(partitionCount);
                    }

                    return Id(order) / 2 % partitionCount;
                };
            })))))
        {
            await WaitForFinishedAsync(engine.Engine, "route", count);
        }

        var even = kafka.ReadAll(evenTopic, Deadline);
        var odd = kafka.ReadAll(oddTopic, Deadline);
        even.Should().HaveCount(count / 2).And.OnlyContain(m => int.Parse(m.Message.Key, CultureInfo.InvariantCulture) % 2 == 0);
        odd.Should().HaveCount(count / 2).And.OnlyContain(m => int.Parse(m.Message.Key, CultureInfo.InvariantCulture) % 2 == 1);
        even.Should().OnlyContain(m => m.Partition.Value == int.Parse(m.Message.Key, CultureInfo.InvariantCulture) / 2 % 3);
        odd.Should().OnlyContain(m => m.Partition.Value == int.Parse(m.Message.Key, CultureInfo.InvariantCulture) / 2 % 5);
        counts.Distinct().Should().BeEquivalentTo([3, 5], "the partitioner is told each destination topic's partition count");
    }

    [Fact]
    public async Task Write_PartitionOutOfRangeOrTopicInvalid_DeadLettersTheItemWithTheReasonAndGoesOn()
    {
        var inputTopic = await kafka.CreateTopicAsync("bad-route-in", 1);
        var outputTopic = await kafka.CreateTopicAsync("bad-route-out", 2);
        var deadLetterTopic = await kafka.CreateTopicAsync("bad-route-dlq", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, 10).Select(i => (0, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("bad-route", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .WriteTo(new KafkaOutput<Order>(outputTopic, o =>
            {
                o.Topic = order => Id(order) switch { 3 => null, 4 => "no spaces allowed", _ => outputTopic };
                o.Partition = (order, _, partitionCount) => Id(order) == 7 ? partitionCount : 0;
            })))))
        {
            await WaitForFinishedAsync(engine.Engine, "bad-route", 10);
        }

        var deadLetters = kafka.ReadAll(deadLetterTopic, Deadline).ToDictionary(m => m.Message.Key, m => KafkaFixture.Header(m, DeadLetterHeaders.ErrorMessage));
        deadLetters.Keys.Should().BeEquivalentTo("3", "4", "7");
        deadLetters["3"].Should().Contain("setting Topic returned null");
        deadLetters["4"].Should().Contain("setting Topic returned 'no spaces allowed', which is not a valid topic name");
        deadLetters["7"].Should().Contain($"setting Partition returned 2 for topic '{outputTopic}', which has 2 partition(s)");
        kafka.ReadAll(outputTopic, Deadline).Should().HaveCount(7);
        kafka.CommittedOffsets(groupId, inputTopic)[0].Should().Be(10, "dead-lettered items are finished; the partition moves on");
    }

    private static int Id(Order order) => int.Parse(order.Id, CultureInfo.InvariantCulture);

    private async Task ProduceByKeyAsync(string topic, IEnumerable<(string Key, string Value)> messages)
    {
        using var producer = kafka.CreateProducer();
        await Task.WhenAll(messages.Select(m => producer.ProduceAsync(topic, new Message<string, string> { Key = m.Key, Value = m.Value })));
    }

    private static async Task WaitForFinishedAsync(MeshineryEngine engine, string task, int count) =>
        (await Eventually.HoldsAsync(() => engine.GetStatistics(task).Finished >= count, Deadline))
            .Should().BeTrue($"all {count} messages should be finished within {Deadline}");
}
