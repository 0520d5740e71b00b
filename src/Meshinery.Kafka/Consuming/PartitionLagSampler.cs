using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Samples, on the consume thread and at most every <see cref="RefreshInterval"/>, each held partition's lag and
/// committed offset, for the health check (<see cref="InputHealthTracker"/>) and the Kafka metrics. The lag is the
/// consumer's cached high watermark (no broker round trip) minus the offset up to which work is finished (what the next
/// commit covers); a partition the input has read nothing from since it was assigned counts from its read position
/// (where the group's committed offset put it). Other threads only read the last sample, so they never block and never
/// touch the consumer.
/// </summary>
/// <param name="time">The engine's clock.</param>
/// <param name="finished">Each held partition with its offset tracker's committable offset (null before it read any).</param>
/// <param name="committed">The offset committed last for a partition, if any.</param>
internal sealed class PartitionLagSampler(
    TimeProvider time,
    Func<IEnumerable<(TopicPartition Partition, long? Finished)>> finished,
    Func<TopicPartition, long?> committed)
{
    /// <summary>How stale a sample may be.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private const long Unknown = long.MinValue;
    private PartitionSample[] _samples = [];
    private long _totalLag = Unknown;
    private long _nextRefresh;

    /// <summary>The last sample, one entry per partition held then.</summary>
    public IReadOnlyList<PartitionSample> Samples => Volatile.Read(ref _samples);

    /// <summary>
    /// The lag summed over the held partitions; <see langword="null"/> before the first sample and while any held
    /// partition's lag is unknown (a lag over only some partitions would look smaller than it is).
    /// </summary>
    public long? TotalLag => Volatile.Read(ref _totalLag) is var lag && lag == Unknown ? null : lag;

    /// <summary>On the consume thread: samples again when the last sample is older than <see cref="RefreshInterval"/>.</summary>
    public void Refresh(IConsumer<byte[], byte[]> consumer)
    {
        var now = time.GetTimestamp();
        if (now < _nextRefresh)
        {
            return;
        }

        _nextRefresh = now + (long)(RefreshInterval.TotalSeconds * time.TimestampFrequency);
        var samples = new List<PartitionSample>();
        long total = 0;
        var allKnown = true;
        foreach (var (partition, done) in finished())
        {
            var high = consumer.GetWatermarkOffsets(partition).High;
            var from = done is { } offset ? new Offset(offset) : consumer.Position(partition);
            long? lag = high.IsSpecial || from.IsSpecial ? null : Math.Max(0, high.Value - from.Value);
            samples.Add(new PartitionSample(partition, lag, committed(partition)));
            total += lag ?? 0;
            allKnown &= lag is not null;
        }

        Volatile.Write(ref _samples, [.. samples]);
        Volatile.Write(ref _totalLag, allKnown ? total : Unknown);
    }
}

/// <summary>One partition's lag (unknown without a watermark or position) and last committed offset (none yet: null).</summary>
internal readonly record struct PartitionSample(TopicPartition Partition, long? Lag, long? Committed);
