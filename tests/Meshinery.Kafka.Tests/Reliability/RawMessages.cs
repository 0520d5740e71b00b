using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>A message as bytes: what an independent producer wrote, compared byte for byte with what comes out.</summary>
public sealed record RawMessage(string Name, int Partition, byte[]? Key, byte[]? Value, IReadOnlyList<(string Key, byte[] Value)> Headers);

/// <summary>
/// Raw access to the fixture's cluster with plain Confluent clients (not Meshinery's): producing bytes to explicit
/// partitions, with headers and null keys or values, and reading a topic back as bytes.
/// </summary>
public static class RawMessages
{
    /// <summary>Above librdkafka's default 1,000,000 bytes, so the corpus can hold a 1 MiB value.</summary>
    public const int MaxMessageBytes = 4_000_000;

    /// <summary>Produces the messages in order and returns each one's offset.</summary>
    public static async Task<List<long>> ProduceAsync(KafkaFixture kafka, string topic, IEnumerable<RawMessage> messages)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            MessageMaxBytes = MaxMessageBytes,
            EnableIdempotence = true,
        }).Build();
        var offsets = new List<long>();
        foreach (var message in messages)
        {
            var headers = new Headers();
            foreach (var (key, value) in message.Headers)
            {
                headers.Add(key, value);
            }

            var result = await producer.ProduceAsync(
                new TopicPartition(topic, message.Partition),
                new Message<byte[]?, byte[]?> { Key = message.Key, Value = message.Value, Headers = headers });
            offsets.Add(result.Offset.Value);
        }

        return offsets;
    }

    /// <summary>Reads a whole topic from the beginning (no group) until every partition's end, as bytes.</summary>
    public static List<ConsumeResult<byte[]?, byte[]?>> ReadAll(KafkaFixture kafka, string topic, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = KafkaFixture.UniqueName("raw-reader"),
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            FetchMaxBytes = MaxMessageBytes * 2,
            MaxPartitionFetchBytes = MaxMessageBytes,
        }).Build();
        var partitions = kafka.PartitionsOf(topic);
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        var results = new List<ConsumeResult<byte[]?, byte[]?>>();
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

    /// <summary>The values of every header named <paramref name="key"/>, in order.</summary>
    public static List<byte[]> HeaderValues(Headers headers, string key) =>
        [.. headers.Where(h => h.Key == key).Select(h => h.GetValueBytes())];
}
