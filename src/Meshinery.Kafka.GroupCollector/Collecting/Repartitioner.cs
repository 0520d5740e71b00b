using System.Text;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The first of the collector's steps: checks an event of the user's topic and re-keys it by group id into the internal
/// topic, so that all of a group's events reach the instance that owns the group, whichever partition they were
/// written to. Result events (the collector's own, on the same topic) are skipped; invalid events throw
/// <see cref="InvalidGroupEventException"/> and are dead-lettered with their original bytes.
/// </summary>
internal sealed class Repartitioner
{
    private static readonly KeyedBytes s_skip = new(string.Empty, null);
    private readonly GroupEventParser _parser;

    public Repartitioner(GroupEventParser parser)
    {
        _parser = parser;
    }

    public static bool IsSkipped(KeyedBytes record) => ReferenceEquals(record, s_skip);

    /// <summary>The event's bytes keyed by its group id, or the skip marker for a result event.</summary>
    public KeyedBytes Route(byte[] value) =>
        _parser.Parse(value) is { } groupEvent ? new KeyedBytes(groupEvent.GroupId, value) : s_skip;

    /// <summary>The internal tick of a group whose deadline passed.</summary>
    public static KeyedBytes Tick(GroupTick tick)
    {
        var json = $"{{\"type\":\"{EventTypes.Tick}\",\"group\":{System.Text.Json.JsonSerializer.Serialize(tick.GroupId)}}}";
        return new KeyedBytes(tick.GroupId, Encoding.UTF8.GetBytes(json));
    }
}
