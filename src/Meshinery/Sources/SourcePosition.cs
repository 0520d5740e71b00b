namespace Meshinery;

/// <summary>
/// Where an input item came from: the source (for Kafka, the topic), the partition and the offset or sequence number.
/// It appears in the logging scope of the item's run, in dead letters and in acknowledgements.
/// </summary>
/// <param name="Source">The source name; for Kafka, the topic.</param>
/// <param name="Partition">The partition, or 0 for sources without partitions.</param>
/// <param name="Offset">The offset within the partition, or the item's sequence number.</param>
public readonly record struct SourcePosition(string Source, int Partition, long Offset)
{
    /// <summary>The position of items that were injected with <see cref="MeshineryEngine.InjectAsync{T}"/>.</summary>
    public static SourcePosition Injected { get; } = new("injected", 0, -1);

    /// <summary>Formats the position as <c>source[partition]@offset</c>.</summary>
    public override string ToString() => $"{Source}[{Partition}]@{Offset}";
}
