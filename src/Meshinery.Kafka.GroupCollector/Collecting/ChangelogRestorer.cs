using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// Reads one changelog partition from its beginning to the end it had when the partition was assigned, into a
/// <see cref="GroupTable"/> (the last record of a key wins, as compaction would leave it). On a compacted topic that is
/// about one record per group open or remembered; on a cluster that does not compact (the embedded one) it is every
/// record ever written to the partition, so the time grows with the topic: <see cref="GroupCollectorOptions.RestoreTimeout"/>
/// bounds it (past it the instance stops with an error rather than run on half a state).
/// </summary>
internal sealed class ChangelogRestorer
{
    private readonly GroupCollectorOptions _options;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;
    private readonly ConsumerConfig _config;
    private bool _checkedPartitions;

    public ChangelogRestorer(GroupCollectorOptions options, SourceContext context, CollectorMetrics metrics, ILogger logger)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger;
        var shared = context.Services.GetService<IOptions<KafkaOptions>>()?.Value ?? new KafkaOptions();
        _config = new ConsumerConfig(new Dictionary<string, string>(shared.ConsumerConfig, StringComparer.Ordinal))
        {
            BootstrapServers = options.BootstrapServers ?? shared.BootstrapServers,
            GroupId = $"{options.GroupId}.restore", // never joins: partitions are assigned by hand and nothing is committed
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
    }

    public void Restore(GroupTable table)
    {
        var started = Stopwatch.GetTimestamp();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(_config).Build();
        CheckCopartitioned(consumer);
        var partition = new TopicPartition(_options.ChangelogTopicName, table.Partition);
        var end = consumer.QueryWatermarkOffsets(partition, _options.RestoreTimeout).High.Value;
        long records = 0;
        if (end > 0)
        {
            consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
            var position = 0L;
            while (position < end)
            {
                var left = _options.RestoreTimeout - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException(
                        $"Group collector '{_options.Name}' could not restore partition {table.Partition} of '{partition.Topic}' within RestoreTimeout ({_options.RestoreTimeout}): read {records} of about {end} records.");
                }

                var result = consumer.Consume(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1));
                if (result is null)
                {
                    continue;
                }

                if (result.IsPartitionEOF)
                {
                    position = Math.Max(position, result.Offset.Value);
                    continue;
                }

                position = result.Offset.Value + 1;
                records++;
                Apply(table, result);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.Restored.Add(records, _metrics.Tag);
        _metrics.RestoreDuration.Record(elapsed.TotalSeconds, _metrics.Tag);
        CollectorLog.Restored(_logger, _options.Name, table.Partition, partition.Topic, records, table.OpenCount, table.Count - table.OpenCount,
            (long)elapsed.TotalMilliseconds);
    }

    private void Apply(GroupTable table, ConsumeResult<byte[]?, byte[]?> result)
    {
        if (result.Message.Key is not { Length: > 0 } key)
        {
            CollectorLog.BadChangelogRecord(_logger, _options.Name, table.Partition, result.Offset.Value, "no key");
            return;
        }

        try
        {
            table.Restore(Encoding.UTF8.GetString(key), result.Message.Value);
        }
        catch (FormatException error)
        {
            CollectorLog.BadChangelogRecord(_logger, _options.Name, table.Partition, result.Offset.Value, error.Message);
        }
    }

    /// <summary>
    /// A group's changelog records must be on the partition numbered like its internal-topic partition: both topics are
    /// written with the same key and partitioner, which holds only when they have the same number of partitions.
    /// </summary>
    private void CheckCopartitioned(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (_checkedPartitions)
        {
            return;
        }

        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var changelog = PartitionCount(admin, _options.ChangelogTopicName);
        var groups = PartitionCount(admin, _options.InternalTopicName);
        if (changelog != groups)
        {
            throw new InvalidOperationException(
                $"Group collector '{_options.Name}': the changelog topic '{_options.ChangelogTopicName}' has {changelog} partition(s) and the internal topic '{_options.InternalTopicName}' {groups}; they must have the same number.");
        }

        _checkedPartitions = true;
    }

    private int PartitionCount(IAdminClient admin, string topic)
    {
        var metadata = admin.GetMetadata(topic, _options.RestoreTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
        return metadata is { Error.IsError: false } ? metadata.Partitions.Count : 0; // 0: it does not exist
    }
}
