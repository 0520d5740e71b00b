using Confluent.Kafka;

namespace Meshinery.Testing.Tests;

public class ClusterSelectionTests
{
    [Fact]
    public void BootstrapServersEnvironmentVariable_Name_IsMeshineryKafkaBootstrapServers()
    {
        KafkaTestCluster.BootstrapServersEnvironmentVariable.Should().Be("MESHINERY_KAFKA_BOOTSTRAP_SERVERS");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void FromSetting_NoBootstrapServers_StartsEmbeddedCluster(string? setting)
    {
        using var cluster = KafkaTestCluster.FromSetting(setting, options: null);

        cluster.IsEmbedded.Should().BeTrue();
        cluster.Should().BeOfType<EmbeddedKafkaCluster>();
        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Should().ContainSingle();
    }

    [Fact]
    public void FromSetting_NoBootstrapServers_AppliesEmbeddedOptions()
    {
        using var cluster = KafkaTestCluster.FromSetting(null, new EmbeddedKafkaClusterOptions { Brokers = 2 });

        cluster.Should().BeOfType<EmbeddedKafkaCluster>().Which.BrokerCount.Should().Be(2);
    }

    [Fact]
    public void FromSetting_BootstrapServers_ConnectsToThemInsteadOfStartingACluster()
    {
        using var cluster = KafkaTestCluster.FromSetting(" kafka-1:9092,kafka-2:9092 ", new EmbeddedKafkaClusterOptions { Brokers = 3 });

        cluster.IsEmbedded.Should().BeFalse();
        cluster.Should().NotBeOfType<EmbeddedKafkaCluster>();
        cluster.BootstrapServers.Should().Be("kafka-1:9092,kafka-2:9092");
    }

    [Fact]
    public void FromEnvironment_CurrentEnvironment_MatchesSelectionRule()
    {
        // Reads the real variable without changing it: other tests run in parallel in this process.
        var setting = Environment.GetEnvironmentVariable(KafkaTestCluster.BootstrapServersEnvironmentVariable);

        using var cluster = KafkaTestCluster.FromEnvironment();

        cluster.IsEmbedded.Should().Be(string.IsNullOrWhiteSpace(setting));
    }

    [Fact]
    public async Task Connect_ExistingCluster_ClientsReachItThroughBootstrapServers()
    {
        await using var embedded = KafkaTestCluster.StartEmbedded();
        await embedded.CreateTopicAsync("shared", 2);
        await using var connected = KafkaTestCluster.Connect(embedded.BootstrapServers);

        using var producer = TestKafka.CreateProducer(connected.BootstrapServers);
        var delivery = await producer.ProduceAsync("shared", new Message<string, string> { Key = "k", Value = "v" })
            .WaitAsync(TestKafka.Deadline);

        connected.IsEmbedded.Should().BeFalse();
        delivery.Status.Should().Be(PersistenceStatus.Persisted);
    }

    [Fact]
    public async Task Connect_CreateTopicAsyncCancelledWhileWaiting_ThrowsOperationCanceled()
    {
        // The mock broker never answers the admin API's CreateTopics, which makes it a cluster that hangs.
        await using var embedded = KafkaTestCluster.StartEmbedded();
        await using var connected = KafkaTestCluster.Connect(embedded.BootstrapServers);
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        var act = async () => await connected.CreateTopicAsync("hanging", 1, cancellation.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }
}
