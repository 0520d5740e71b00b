using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Meshinery.Testing;

namespace Meshinery.Kafka.GroupCollector.Tests.Support;

/// <summary>
/// One Kafka-protocol cluster for the test assembly (the embedded one unless MESHINERY_KAFKA_BOOTSTRAP_SERVERS names
/// one), and the collector's topics under fresh names per test.
/// </summary>
public sealed class CollectorKafka : IAsyncLifetime
{
    public const int Partitions = 3;

    public KafkaTestCluster Cluster { get; private set; } = null!;

    public string BootstrapServers => Cluster.BootstrapServers;

    public Task InitializeAsync()
    {
        Cluster = KafkaTestCluster.FromEnvironment(new EmbeddedKafkaClusterOptions { Brokers = 1 });
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    /// <summary>Options for a fresh collector (fresh topics and groups), with its topics created.</summary>
    public async Task<GroupCollectorOptions> CreateCollectorAsync(Action<GroupCollectorOptions>? configure = null, int changelogPartitions = Partitions)
    {
        var options = new GroupCollectorOptions
        {
            Topic = $"collector-{Guid.NewGuid():N}",
            GroupId = $"collector-{Guid.NewGuid():N}",
        };
        configure?.Invoke(options);
        await Cluster.CreateTopicAsync(options.Topic, Partitions);
        await Cluster.CreateTopicAsync(options.InternalTopicName, Partitions);
        await Cluster.CreateTopicAsync(options.ChangelogTopicName, changelogPartitions);

        await Cluster.CreateTopicAsync(options.DeadLetterTopicName, 1);
        if (options.OutputTopicName != options.Topic)
        {
            await Cluster.CreateTopicAsync(options.OutputTopicName, 1);
        }

        return options;
    }

    /// <summary>Writes messages without keys, as kcat -P does, each to the partition given (to spread a group's events).</summary>
    public async Task PostAsync(string topic, IEnumerable<(int Partition, string Value)> messages)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = BootstrapServers }).Build();
        foreach (var (partition, value) in messages)
        {
            await producer.ProduceAsync(new TopicPartition(topic, partition), new Message<Null, string> { Value = value });
        }
    }

    /// <summary>Writes messages without keys to partitions 0, 1, 2, 0, ... in turn.</summary>
    public Task PostAsync(string topic, IEnumerable<string> messages) =>
        PostAsync(topic, messages.Select((value, i) => (i % Partitions, value)));

    /// <summary>Whether the consumer group has committed every message of the topic (its offsets are at the ends).</summary>
    public bool CommittedToEnd(string groupId, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = groupId }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartition(topic, p.PartitionId)).ToList();
        var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(10)).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
        return partitions.All(p =>
        {
            var end = consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10)).High.Value;
            return end == 0 || committed[p.Partition.Value] == end;
        });
    }

    /// <summary>Reads a whole topic from the beginning (no consumer group) until every partition's end.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, TimeSpan? timeout = null)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers,
            GroupId = $"reader-{Guid.NewGuid():N}",
            EnablePartitionEof = true,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions
            .Select(p => new TopicPartitionOffset(topic, p.PartitionId, Offset.Beginning)).ToList();
        consumer.Assign(partitions);
        var results = new List<ConsumeResult<byte[]?, byte[]?>>();
        var ended = new HashSet<int>();
        var deadline = Environment.TickCount64 + (long)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        while (ended.Count < partitions.Count && Environment.TickCount64 < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is not { } result)
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

        ended.Should().HaveCount(partitions.Count, "every partition of {0} is read to its end", topic);
        return results;
    }
}

[CollectionDefinition(Name)]
public sealed class CollectorKafkaTests : ICollectionFixture<CollectorKafka>
{
    public const string Name = "collector-kafka";
}

/// <summary>Follows a topic from its beginning and keeps the collector's result events, per group id.</summary>
public sealed class ResultReader : IDisposable
{
    private readonly ConcurrentQueue<JsonElement> _results = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SemaphoreSlim _arrived = new(0);

    public ResultReader(string bootstrapServers, string topic)
    {
        _loop = Task.Factory.StartNew(() => Read(bootstrapServers, topic), TaskCreationOptions.LongRunning);
    }

    public IReadOnlyList<JsonElement> Results => [.. _results];

    public IEnumerable<JsonElement> For(string groupId) => _results.Where(r => r.GetProperty("id").GetString() == groupId);

    /// <summary>Waits until at least <paramref name="count"/> results arrived.</summary>
    public async Task WaitForAsync(int count, TimeSpan? deadline = null)
    {
        var until = Environment.TickCount64 + (long)(deadline ?? TimeSpan.FromSeconds(60)).TotalMilliseconds;
        while (_results.Count < count)
        {
            var left = until - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"Waited for {count} result(s); {_results.Count} arrived: {string.Join(Environment.NewLine, _results.Select(r => r.GetRawText()))}");
            }

            await _arrived.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, 1000)));
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        _arrived.Dispose();
    }

    private void Read(string bootstrapServers, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"results-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        while (!_stop.IsCancellationRequested)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { Message.Value: { } value })
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(value);
            }
            catch (JsonException)
            {
                continue; // the topic also carries the input, invalid input included
            }

            using var parsed = document;
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("type", out var type) && type.GetString() is "EventGroupCollectorSuccess" or "EventGroupCollectorFailure")
            {
                _results.Enqueue(document.RootElement.Clone());
                _arrived.Release();
            }
        }

        consumer.Close();
    }
}
