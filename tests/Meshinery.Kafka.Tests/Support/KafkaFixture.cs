using System.Text;
using Confluent.Kafka;
using Meshinery.Testing;

namespace Meshinery.Kafka.Tests.Support;

/// <summary>
/// One Kafka-protocol cluster for the whole test assembly: the embedded one (librdkafka's mock broker on loopback), or
/// the cluster named by MESHINERY_KAFKA_BOOTSTRAP_SERVERS. Tests use fresh topic and group names, so they never share data.
/// </summary>
public sealed class KafkaFixture : IAsyncLifetime
{
    public KafkaTestCluster Cluster { get; private set; } = null!;

    public string BootstrapServers => Cluster.BootstrapServers;

    public Task InitializeAsync()
    {
        Cluster = KafkaTestCluster.FromEnvironment(new EmbeddedKafkaClusterOptions { Brokers = 3 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public async Task<string> CreateTopicAsync(string prefix, int partitions)
    {
        var name = UniqueName(prefix);
        await Cluster.CreateTopicAsync(name, partitions);
        return name;
    }

    public IProducer<string, string> CreateProducer() =>
        new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = BootstrapServers, LingerMs = 5 }).Build();

    /// <summary>Produces messages to explicit partitions and waits until all are acknowledged.</summary>
    public async Task ProduceAsync(string topic, IEnumerable<(int Partition, string Key, string Value)> messages)
    {
        using var producer = CreateProducer();
        var pending = messages
            .Select(m => producer.ProduceAsync(new TopicPartition(topic, m.Partition), new Message<string, string> { Key = m.Key, Value = m.Value }))
            .ToList();
        await Task.WhenAll(pending);
    }

    /// <summary>Reads a whole topic from the beginning (no consumer group) until every partition's end.</summary>
    public List<ConsumeResult<string, string>> ReadAll(string topic, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = UniqueName("reader"),
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        var partitions = PartitionsOf(topic);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var results = new List<ConsumeResult<string, string>>();
        var ended = new HashSet<int>();
        var deadline = DateTime.UtcNow + timeout;
        while (ended.Count < partitions.Count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                ended.Add(result.Partition.Value);
            }
            else
            {
                results.Add(result);
            }
        }

        ended.Count.Should().Be(partitions.Count, "every partition of {0} should be read to its end within {1}", topic, timeout);
        return results;
    }

    public List<TopicPartition> PartitionsOf(string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
        return [.. metadata.Topics.Single().Partitions.Select(p => new TopicPartition(topic, p.PartitionId)).OrderBy(p => p.Partition.Value)];
    }

    /// <summary>The group's committed offsets as the broker has them (-1001 = none).</summary>
    public Dictionary<int, long> CommittedOffsets(string groupId, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = groupId }).Build();
        return consumer.Committed(PartitionsOf(topic), TimeSpan.FromSeconds(10))
            .ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>Each partition's end offset (high watermark).</summary>
    public Dictionary<int, long> EndOffsets(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = UniqueName("watermarks") }).Build();
        return PartitionsOf(topic).ToDictionary(
            p => p.Partition.Value,
            p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value);
    }

    public static string Header(ConsumeResult<string, string> result, string key) =>
        result.Message.Headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : throw new KeyNotFoundException($"No header '{key}'.");
}

[CollectionDefinition(Name)]
public sealed class KafkaTests : ICollectionFixture<KafkaFixture>
{
    public const string Name = "kafka";
}
