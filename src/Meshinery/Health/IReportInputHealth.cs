namespace Meshinery;

/// <summary>
/// Implemented by an input source that can say how it is doing (for Kafka: the partitions it holds, when it last made
/// progress, its lag). The health check registered by
/// <see cref="MeshineryHealthChecksBuilderExtensions.AddMeshinery"/> reads it and reports the input degraded when it
/// holds no partitions, makes no progress although items are waiting, or lags too far behind.
/// </summary>
/// <remarks>Called from the health check's thread, concurrently with polling: return a consistent snapshot, cheaply, without blocking.</remarks>
public interface IReportInputHealth
{
    /// <summary>Returns the input's state now.</summary>
    /// <returns>The snapshot; leave a value <see langword="null"/> when the input cannot know it.</returns>
    InputHealthSnapshot GetHealthSnapshot();
}

/// <summary>What an input reports about itself to the health check (see <see cref="IReportInputHealth"/>).</summary>
public readonly record struct InputHealthSnapshot
{
    /// <summary>The partitions the input holds now; <see langword="null"/> for inputs without partitions.</summary>
    public int? AssignedPartitions { get; init; }

    /// <summary>
    /// When <see cref="AssignedPartitions"/> last changed (or, before any assignment, when the input started): with no
    /// partitions, how long the input has been without them.
    /// </summary>
    public DateTimeOffset? AssignmentChangedAt { get; init; }

    /// <summary>When the input last made progress (handed out an item or, for Kafka, committed a further offset).</summary>
    public DateTimeOffset? LastProgressAt { get; init; }

    /// <summary>
    /// How many items wait to be read or finished (for Kafka: log end offsets minus committed offsets, summed over the
    /// input's partitions); <see langword="null"/> when unknown. With a lag of 0 the input is idle, not stalled.
    /// </summary>
    public long? Lag { get; init; }
}
