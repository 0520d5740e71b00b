using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// What a <see cref="KafkaInput{T}"/> reports to the health check (<see cref="IReportInputHealth"/>): the partitions it
/// holds, when that last changed, when it last made progress (handed out an item or committed a further offset) and
/// its lag. The lag is computed on the consume thread, at most every <see cref="LagRefreshInterval"/>, from the
/// consumer's cached high watermarks (no broker round trip) minus, per partition, the offset up to which work is
/// finished (what the next commit covers, so the committed offset of at most one commit interval later); the health
/// check's thread only reads numbers, so it never blocks and never touches the consumer.
/// </summary>
/// <param name="time">The engine's clock.</param>
/// <param name="assignedPartitions">How many partitions the input holds now.</param>
/// <param name="finished">Each held partition with its offset tracker's committable offset (null before it read any).</param>
internal sealed class InputHealthTracker(
    TimeProvider time, Func<int> assignedPartitions, Func<IEnumerable<(TopicPartition Partition, long? Finished)>> finished)
{
    /// <summary>How stale the reported lag may be.</summary>
    public static readonly TimeSpan LagRefreshInterval = TimeSpan.FromSeconds(1);

    private const long Unknown = long.MinValue;
    private long _assignmentChangedAt = time.GetUtcNow().UtcTicks;
    private long _lastProgressAt = Unknown;
    private long _lag = Unknown;
    private long _nextRefresh;

    /// <summary>The group assigned, revoked or lost partitions.</summary>
    public void AssignmentChanged() => Volatile.Write(ref _assignmentChangedAt, time.GetUtcNow().UtcTicks);

    /// <summary>Items were handed out or offsets committed.</summary>
    public void Progressed() => Volatile.Write(ref _lastProgressAt, time.GetUtcNow().UtcTicks);

    /// <summary>
    /// On the consume thread: recomputes the lag when the last computation is older than <see cref="LagRefreshInterval"/>.
    /// A partition the input has read nothing from since it was assigned counts from its read position (where the group's
    /// committed offset put it); one without a known watermark or position is left out.
    /// </summary>
    public void RefreshLag(IConsumer<byte[], byte[]> consumer)
    {
        var now = time.GetTimestamp();
        if (now < _nextRefresh)
        {
            return;
        }

        _nextRefresh = now + (long)(LagRefreshInterval.TotalSeconds * time.TimestampFrequency);
        long lag = 0;
        var partitions = 0;
        var known = 0;
        foreach (var (partition, done) in finished())
        {
            partitions++;
            var high = consumer.GetWatermarkOffsets(partition).High;
            var from = done is { } offset ? new Offset(offset) : consumer.Position(partition);
            if (high.IsSpecial || from.IsSpecial)
            {
                continue;
            }

            lag += Math.Max(0, high.Value - from.Value);
            known++;
        }

        // A lag over only some partitions would look smaller than it is: unknown until every partition is known.
        Volatile.Write(ref _lag, known == partitions ? lag : Unknown);
    }

    /// <summary>The state now, from the numbers the other threads recorded.</summary>
    public InputHealthSnapshot Snapshot()
    {
        var progress = Volatile.Read(ref _lastProgressAt);
        var lag = Volatile.Read(ref _lag);
        return new InputHealthSnapshot
        {
            AssignedPartitions = assignedPartitions(),
            AssignmentChangedAt = new DateTimeOffset(Volatile.Read(ref _assignmentChangedAt), TimeSpan.Zero),
            LastProgressAt = progress == Unknown ? null : new DateTimeOffset(progress, TimeSpan.Zero),
            Lag = lag == Unknown ? null : lag,
        };
    }
}
