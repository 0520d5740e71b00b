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
}
