using Confluent.Kafka;

namespace Meshinery.Testing.Tests;

public class EmbeddedKafkaClusterTests
{
    [Fact]
    public void StartEmbedded_DefaultOptions_StartsOneLoopbackBroker()
    {
        using var cluster = KafkaTestCluster.StartEmbedded();

        cluster.IsEmbedded.Should().BeTrue();
        cluster.BrokerCount.Should().Be(1);
        cluster.BootstrapServers.Should().MatchRegex(@"^127\.0\.0\.1:\d+$");
        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Select(b => b.BrokerId).Should().Equal(1);
    }

    [Fact]
    public void StartEmbedded_ThreeBrokers_MetadataListsBrokersOneToThree()
    {
        using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 3 });

        cluster.BrokerCount.Should().Be(3);
        cluster.BootstrapServers.Split(',').Should().HaveCount(3).And.OnlyHaveUniqueItems();
        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Select(b => b.BrokerId)
            .Should().BeEquivalentTo([1, 2, 3]);
    }

    [Fact]
    public async Task CreateTopicAsync_EightPartitions_MetadataShowsEightPartitionsWithLeaders()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });

        await cluster.CreateTopicAsync("orders", 8);

        var topic = TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("orders");
        topic.Should().NotBeNull();
        topic!.Error.IsError.Should().BeFalse();
        topic.Partitions.Select(p => p.PartitionId).Should().BeEquivalentTo(Enumerable.Range(0, 8));
        topic.Partitions.Should().OnlyContain(p => p.Leader == 1 || p.Leader == 2);
    }

    [Fact]
    public async Task FailNextRequests_Produce_FailsTheNextProduceWithThatErrorAndServesTheOneAfter()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("events", 1);
        using var producer = TestKafka.CreateProducer(cluster.BootstrapServers);

        // Connected and the topic's metadata known: the next request to the broker is the Produce.
        await producer.ProduceAsync("events", new Message<string, string> { Key = "k", Value = "first" }).WaitAsync(TestKafka.Deadline);
        cluster.FailNextRequests(0 /* Produce */, ErrorCode.MsgSizeTooLarge);

        var failed = () => producer.ProduceAsync("events", new Message<string, string> { Key = "k", Value = "refused" }).WaitAsync(TestKafka.Deadline);
        (await failed.Should().ThrowAsync<ProduceException<string, string>>()).Which.Error.Code.Should().Be(ErrorCode.MsgSizeTooLarge);
        var after = await producer.ProduceAsync("events", new Message<string, string> { Key = "k", Value = "third" }).WaitAsync(TestKafka.Deadline);
        after.Status.Should().Be(PersistenceStatus.Persisted);
    }

    [Fact]
    public void FailNextRequests_NoErrors_ThrowsArgumentException()
    {
        using var cluster = KafkaTestCluster.StartEmbedded();

        var act = () => cluster.FailNextRequests(0);

        act.Should().Throw<ArgumentException>().WithParameterName("errors");
    }

    [Fact]
    public async Task StartEmbedded_TopicsInOptions_CreatesThemWithDefaultPartitions()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions
        {
            Topics = { "a", "b", "a" },
            DefaultPartitions = 3,
        });

        var metadata = TestKafka.GetMetadata(cluster.BootstrapServers);
        metadata.FindTopic("a")!.Partitions.Should().HaveCount(3);
        metadata.FindTopic("b")!.Partitions.Should().HaveCount(3);
    }

    [Fact]
    public async Task ProduceAndConsume_ConsumerGroupOnEightPartitions_ReceivesEveryMessageOnceInPartitionOrder()
    {
        const int count = 1000;
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("events", 8);

        var sent = new List<DeliveryResult<string, string>>(count);
        using (var producer = TestKafka.CreateProducer(cluster.BootstrapServers))
        {
            var deliveries = Enumerable.Range(0, count)
                .Select(i => producer.ProduceAsync("events", new Message<string, string> { Key = $"key-{i % 50}", Value = $"value-{i}" }))
                .ToList();
            sent.AddRange(await Task.WhenAll(deliveries).WaitAsync(TestKafka.Deadline));
        }

        sent.Select(d => d.Partition.Value).Distinct().Should().HaveCountGreaterThan(1, "keys spread over the partitions");

        using var consumer = TestKafka.CreateConsumer(cluster.BootstrapServers, TestKafka.UniqueName("group"));
        consumer.Subscribe("events");
        var received = TestKafka.ConsumeUntil(consumer, count, TestKafka.Deadline);
        consumer.Close();

        // Sorted Equal rather than BeEquivalentTo, which compares 1000 items pairwise and takes seconds.
        received.Select(r => r.Message.Value).Order(StringComparer.Ordinal).Should()
            .Equal(sent.Select(d => d.Message.Value).Order(StringComparer.Ordinal));
        foreach (var partition in received.GroupBy(r => r.Partition.Value))
        {
            partition.Select(r => r.Offset.Value).Should().BeInAscendingOrder();
            partition.Select(r => r.Message.Value).Should().Equal(
                sent.Where(d => d.Partition.Value == partition.Key).OrderBy(d => d.Offset.Value).Select(d => d.Message.Value));
        }
    }

    [Fact]
    public async Task Subscribe_NewConsumerGroup_ReceivesFirstMessageWithinDeadline()
    {
        // The default initial rebalance delay is zero; with the broker default (3 s) this still passes, so it only
        // guards against group joins hanging. The measured difference is in the project notes, not in a test.
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("greetings", 2);
        using (var producer = TestKafka.CreateProducer(cluster.BootstrapServers))
        {
            await producer.ProduceAsync("greetings", new Message<string, string> { Key = "k", Value = "hello" })
                .WaitAsync(TestKafka.Deadline);
        }

        using var consumer = TestKafka.CreateConsumer(cluster.BootstrapServers, TestKafka.UniqueName("group"));
        consumer.Subscribe("greetings");
        var received = TestKafka.ConsumeUntil(consumer, 1, TestKafka.Deadline);
        consumer.Close();

        received.Should().ContainSingle().Which.Message.Value.Should().Be("hello");
    }

    [Fact]
    public async Task StartEmbedded_TwoClustersSideBySide_HaveDifferentBootstrapServersAndSeparateTopics()
    {
        await using var first = KafkaTestCluster.StartEmbedded();
        await using var second = KafkaTestCluster.StartEmbedded();

        await first.CreateTopicAsync("only-in-first", 1);
        await second.CreateTopicAsync("only-in-second", 1);

        first.BootstrapServers.Should().NotBe(second.BootstrapServers);
        var firstTopics = TestKafka.GetMetadata(first.BootstrapServers).Topics.Select(t => t.Topic);
        var secondTopics = TestKafka.GetMetadata(second.BootstrapServers).Topics.Select(t => t.Topic);
        firstTopics.Should().Contain("only-in-first").And.NotContain("only-in-second");
        secondTopics.Should().Contain("only-in-second").And.NotContain("only-in-first");
    }

    [Fact]
    public async Task CreateTopicAsync_SameTopicTwice_SecondCallAcceptsExistingTopic()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();

        await cluster.CreateTopicAsync("twice", 5);
        await cluster.CreateTopicAsync("twice", 5);

        TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("twice")!.Partitions.Should().HaveCount(5);
    }

    [Fact]
    public async Task CreateTopicAsync_ExistingTopicWithOtherPartitionCount_ThrowsNamingBothCounts()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("sized", 2);

        var act = async () => await cluster.CreateTopicAsync("sized", 6);

        (await act.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage("*'sized'*2 partition(s), not 6*");
    }

    [Fact]
    public async Task CreateTopicAsync_TopicCreatedImplicitlyByProducer_ThrowsUnlessPartitionCountMatches()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        using (var producer = TestKafka.CreateProducer(cluster.BootstrapServers))
        {
            await producer.ProduceAsync("implicit", new Message<string, string> { Key = "k", Value = "v" })
                .WaitAsync(TestKafka.Deadline);
        }

        var act = async () => await cluster.CreateTopicAsync("implicit", 8);

        await act.Should().ThrowAsync<InvalidOperationException>();
        await cluster.CreateTopicAsync("implicit", EmbeddedKafkaClusterOptions.MockAutoCreatePartitions);
    }

    [Fact]
    public async Task CreateTopicAsync_CancelledToken_ThrowsOperationCanceled()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();

        var act = async () => await cluster.CreateTopicAsync("never", 1, new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("never").Should().BeNull();
    }
}
