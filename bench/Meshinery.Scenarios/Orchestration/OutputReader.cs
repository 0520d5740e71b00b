using Confluent.Kafka;
using Meshinery.Scenarios.Messages;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>Reads a system's output topic back after its run (so reading costs the system nothing).</summary>
internal static class OutputReader
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    /// <summary>The number of messages in a topic (the sum of its partitions' high watermarks; nothing is ever deleted).</summary>
    public static long Count(string bootstrapServers, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "watermarks" }).Build();
        long total = 0;
        for (var partition = 0; partition < partitions; partition++)
        {
            var watermarks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(30));
            total += watermarks.High.Value - watermarks.Low.Value;
        }

        return total;
    }

    public static List<OutputRecord> ReadAll(string bootstrapServers, string topic, int partitions, out int undecodable)
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"reader-{topic}",
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(config).Build();
        var remaining = new Dictionary<int, long>();
        for (var partition = 0; partition < partitions; partition++)
        {
            var high = consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(30)).High.Value;
            if (high > 0)
            {
                remaining[partition] = high;
            }
        }

        var records = new List<OutputRecord>((int)Math.Min(int.MaxValue, remaining.Values.Sum()));
        undecodable = 0;
        if (remaining.Count == 0)
        {
            return records;
        }

        consumer.Assign(remaining.Keys.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var deadline = DateTime.UtcNow + s_timeout;
        while (remaining.Count > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Reading {topic} back took more than {s_timeout.TotalSeconds} s.");
            }

            var result = consumer.Consume(TimeSpan.FromSeconds(1));
            if (result is null)
            {
                continue;
            }

            if (!result.IsPartitionEOF)
            {
                if (BenchMessage.TryDecodeOutput(result.Message.Value, out var record))
                {
                    records.Add(record);
                }
                else
                {
                    undecodable++;
                }
            }

            if (remaining.TryGetValue(result.Partition.Value, out var high) && result.Offset.Value + (result.IsPartitionEOF ? 0 : 1) >= high)
            {
                remaining.Remove(result.Partition.Value);
            }
        }

        consumer.Close();
        return records;
    }
}
