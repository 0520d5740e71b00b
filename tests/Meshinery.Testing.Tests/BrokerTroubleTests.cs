using Confluent.Kafka;

namespace Meshinery.Testing.Tests;

public class BrokerTroubleTests
{
    [Fact]
    public async Task SetBrokerDownThenUp_LeaderOfPartition_ProduceFailsWhileDownAndSucceedsAfterwards()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 3 });
        await cluster.CreateTopicAsync("payments", 3);
        var leader = TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("payments")!.Partitions
            .Single(p => p.PartitionId == 0).Leader;
        var partition0 = new TopicPartition("payments", 0);

        cluster.SetBrokerDown(leader);

        // The other brokers still answer metadata requests. (Whether they still list the stopped one depends on the
        // librdkafka version: 2.15 drops it, Debian's 2.0.2 does not.)
        TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("payments").Should().NotBeNull();

        // Leadership does not move, so partition 0 cannot take writes: the message times out (after 3 s, the
        // producer's own deadline, not a sleep in the test).
        using (var producer = TestKafka.CreateProducer(cluster.BootstrapServers, messageTimeoutMs: 3000))
        {
            var produce = async () => await producer.ProduceAsync(partition0, new Message<string, string> { Key = "k", Value = "lost" });
            (await produce.Should().ThrowAsync<ProduceException<string, string>>())
                .Which.Error.Code.Should().Be(ErrorCode.Local_MsgTimedOut);
        }

        cluster.SetBrokerUp(leader);

        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Select(b => b.BrokerId).Should().Contain(leader);
        using (var producer = TestKafka.CreateProducer(cluster.BootstrapServers))
        {
            var delivery = await producer.ProduceAsync(partition0, new Message<string, string> { Key = "k", Value = "kept" })
                .WaitAsync(TestKafka.Deadline);
            delivery.Status.Should().Be(PersistenceStatus.Persisted);
            delivery.Offset.Value.Should().Be(0, "the message produced while the leader was down was never written");
        }
    }

    [Fact]
    public async Task SetBrokerDown_BrokerNotLeadingThePartition_ProduceStillSucceeds()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 3 });
        await cluster.CreateTopicAsync("single", 1);
        var leader = TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("single")!.Partitions[0].Leader;
        var other = Enumerable.Range(1, 3).First(id => id != leader);

        cluster.SetBrokerDown(other);

        using var producer = TestKafka.CreateProducer(cluster.BootstrapServers);
        var delivery = await producer.ProduceAsync("single", new Message<string, string> { Key = "k", Value = "v" })
            .WaitAsync(TestKafka.Deadline);
        delivery.Status.Should().Be(PersistenceStatus.Persisted);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(4)]
    public void SetBrokerDown_IdOutsideCluster_ThrowsNamingBrokerId(int id)
    {
        using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 3 });

        cluster.Invoking(c => c.SetBrokerDown(id)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("brokerId");
        cluster.Invoking(c => c.SetBrokerUp(id)).Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName("brokerId");
    }

    [Fact]
    public void SetBrokerUp_BrokerThatIsUp_DoesNothing()
    {
        using var cluster = KafkaTestCluster.StartEmbedded();

        cluster.Invoking(c => c.SetBrokerUp(1)).Should().NotThrow();
        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Should().ContainSingle();
    }

    [Fact]
    public async Task SetPartitionLeader_OtherBroker_MetadataNamesItAndTakingItDownStopsOnlyThatPartition()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });
        await cluster.CreateTopicAsync("moved", 2);
        cluster.SetPartitionLeader("moved", 0, 1);
        cluster.SetPartitionLeader("moved", 1, 2);

        var partitions = TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic("moved")!.Partitions;
        partitions.Single(p => p.PartitionId == 0).Leader.Should().Be(1);
        partitions.Single(p => p.PartitionId == 1).Leader.Should().Be(2);

        cluster.SetBrokerDown(2);
        using var producer = TestKafka.CreateProducer(cluster.BootstrapServers, messageTimeoutMs: 3000);
        var kept = await producer.ProduceAsync(new TopicPartition("moved", 0), new Message<string, string> { Key = "k", Value = "v" })
            .WaitAsync(TestKafka.Deadline);
        kept.Status.Should().Be(PersistenceStatus.Persisted);
        var toDown = async () => await producer.ProduceAsync(new TopicPartition("moved", 1), new Message<string, string> { Key = "k", Value = "v" });
        (await toDown.Should().ThrowAsync<ProduceException<string, string>>()).Which.Error.Code.Should().Be(ErrorCode.Local_MsgTimedOut);
    }

    [Fact]
    public async Task SetGroupCoordinator_CoordinatorDown_OnlyThatGroupsRequestsFail()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });
        await cluster.CreateTopicAsync("coordinated", 1);
        cluster.SetPartitionLeader("coordinated", 0, 1);
        cluster.SetGroupCoordinator("on-one", 1);
        cluster.SetGroupCoordinator("on-two", 2);

        cluster.SetBrokerDown(2);

        var partition = new TopicPartition("coordinated", 0);
        using (var consumer = TestKafka.CreateConsumer(cluster.BootstrapServers, "on-one"))
        {
            consumer.Committed([partition], TestKafka.Deadline).Single().Offset.Should().Be(Offset.Unset, "its coordinator is up");
        }

        using (var consumer = TestKafka.CreateConsumer(cluster.BootstrapServers, "on-two"))
        {
            consumer.Invoking(c => c.Committed([partition], TimeSpan.FromSeconds(3))).Should().Throw<KafkaException>("its coordinator is down");
        }
    }

    [Fact]
    public void SetPartitionLeaderAndGroupCoordinator_BadArguments_ThrowNamingTheProblem()
    {
        using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });

        cluster.Invoking(c => c.SetPartitionLeader("missing", 0, 3)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("brokerId");
        cluster.Invoking(c => c.SetPartitionLeader("not a topic", 0, 1)).Should().Throw<ArgumentException>().WithParameterName("topic");
        cluster.Invoking(c => c.SetGroupCoordinator("g", 0)).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("brokerId");
        cluster.Invoking(c => c.SetGroupCoordinator("", 1)).Should().Throw<ArgumentException>().WithParameterName("groupId");
    }
}
