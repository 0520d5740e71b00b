using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// Writes the seed's result events, fields in the seed's order. Timestamps are RFC 3339 in UTC with seven fractional
/// digits (<c>2020-07-17T22:36:26.4027560Z</c>); <c>results</c> is keyed by entity id in ordinal order.
/// </summary>
internal static class ResultEvents
{
    private static readonly JsonWriterOptions s_writerOptions = new() { Indented = false };

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary><c>EventGroupCollectorSuccess</c>: every expected entity is done without error.</summary>
    public static byte[] Success(GroupState group, DateTimeOffset resolved) => Write(writer =>
    {
        writer.WriteString("type", EventTypes.Success);
        writer.WriteString("id", group.Id);
        writer.WriteString("created", Timestamp(group.Created));
        writer.WriteString("resolved", Timestamp(resolved));
        WriteResults(writer, group);
        WritePayload(writer, group);
    });

    /// <summary>
    /// <c>EventGroupCollectorFailure</c>: an entity reported an error (its result is <c>null</c>), or, with
    /// <paramref name="timedOutOrRejected"/>, the time-to-live passed or the collector could not take the group; then
    /// <c>entity</c> is the group id, as in the seed's timeout example.
    /// </summary>
    public static byte[] Failure(GroupState group, string error, bool timedOutOrRejected) => Write(writer =>
    {
        writer.WriteString("type", EventTypes.Failure);
        writer.WriteString("id", group.Id);
        if (timedOutOrRejected)
        {
            writer.WriteString("entity", group.Id);
        }

        writer.WriteString("error", error);
        writer.WriteString("created", Timestamp(group.Created));
        WriteResults(writer, group);
        WritePayload(writer, group);
    });

    public static string TimeoutError(long ttlSeconds) =>
        string.Create(CultureInfo.InvariantCulture, $"Operation timed out after {ttlSeconds} seconds");

    private static void WriteResults(Utf8JsonWriter writer, GroupState group)
    {
        writer.WriteStartObject("results");
        foreach (var (entity, outcome) in group.Done)
        {
            writer.WritePropertyName(entity);
            if (outcome.Error is not null)
            {
                writer.WriteNullValue(); // the entity that failed the group (the first error resolves it, so there is one)
            }
            else
            {
                WriteJson(writer, outcome.Result);
            }
        }

        writer.WriteEndObject();
    }

    private static void WritePayload(Utf8JsonWriter writer, GroupState group)
    {
        writer.WritePropertyName("payload");
        WriteJson(writer, group.Payload);
    }

    private static void WriteJson(Utf8JsonWriter writer, JsonElement element)
    {
        if (element.ValueKind == JsonValueKind.Undefined)
        {
            writer.WriteNullValue();
        }
        else
        {
            element.WriteTo(writer);
        }
    }

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
