namespace Meshinery.Kafka;

/// <summary>
/// What a <see cref="KafkaInput{T}"/> reports to the health check (<see cref="IReportInputHealth"/>): the partitions it
/// holds, when that last changed, when it last made progress (handed out an item or committed a further offset) and
/// its lag, as <see cref="PartitionLagSampler"/> last sampled it on the consume thread. The health check's thread only
/// reads numbers, so it never blocks and never touches the consumer.
/// </summary>
/// <param name="time">The engine's clock.</param>
/// <param name="assignedPartitions">How many partitions the input holds now.</param>
/// <param name="lag">The lag summed over the held partitions, <see langword="null"/> when unknown.</param>
internal sealed class InputHealthTracker(TimeProvider time, Func<int> assignedPartitions, Func<long?> lag)
{
    private const long Unknown = long.MinValue;
    private long _assignmentChangedAt = time.GetUtcNow().UtcTicks;
    private long _lastProgressAt = Unknown;

    /// <summary>The group assigned, revoked or lost partitions.</summary>
    public void AssignmentChanged() => Volatile.Write(ref _assignmentChangedAt, time.GetUtcNow().UtcTicks);

    /// <summary>Items were handed out or offsets committed.</summary>
    public void Progressed() => Volatile.Write(ref _lastProgressAt, time.GetUtcNow().UtcTicks);

    /// <summary>The state now, from the numbers the other threads recorded.</summary>
    public InputHealthSnapshot Snapshot()
    {
        var progress = Volatile.Read(ref _lastProgressAt);
        return new InputHealthSnapshot
        {
            AssignedPartitions = assignedPartitions(),
            AssignmentChangedAt = new DateTimeOffset(Volatile.Read(ref _assignmentChangedAt), TimeSpan.Zero),
            LastProgressAt = progress == Unknown ? null : new DateTimeOffset(progress, TimeSpan.Zero),
            Lag = lag(),
        };
    }
}
