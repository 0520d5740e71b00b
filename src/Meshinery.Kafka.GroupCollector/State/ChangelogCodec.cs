using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// A group's state as one changelog record (the value; the key is the group id). The last record of a key is the
/// group's state, as after compaction; a record without value (tombstone) means the group is forgotten.
/// </summary>
/// <remarks>
/// <code>{"status":"open","created":"...","ttl":120,"expected":[...],"payload":{...},"done":{"A":{"result":...},"B":{"error":"..."}}}</code>
/// A resolved group adds <c>resolvedAt</c>, <c>result</c> (the result event, until it is written) and <c>emitted</c>.
/// </remarks>
internal static class ChangelogCodec
{
    public static byte[] Encode(GroupState group)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status", group.Status switch
            {
                GroupStatus.Open => "open",
                GroupStatus.AwaitingCreate => "awaiting-create",
                _ => "resolved",
            });
            writer.WriteString("created", group.Created);
            if (group.Status == GroupStatus.Resolved)
            {
                writer.WriteString("resolvedAt", group.ResolvedAt);
                writer.WriteBoolean("emitted", group.Emitted);
                if (!group.Emitted && group.Result is not null)
                {
                    writer.WritePropertyName("result");
                    writer.WriteRawValue(group.Result, skipInputValidation: true);
                }
            }
            else
            {
                writer.WriteNumber("ttl", group.TtlSeconds);
                writer.WriteStartArray("expected");
                foreach (var entity in group.Expected)
                {
                    writer.WriteStringValue(entity);
                }

                writer.WriteEndArray();
                if (group.Payload.ValueKind != JsonValueKind.Undefined)
                {
                    writer.WritePropertyName("payload");
                    group.Payload.WriteTo(writer);
                }

                writer.WriteStartObject("done");
                foreach (var (entity, outcome) in group.Done)
                {
                    writer.WriteStartObject(entity);
                    if (outcome.Error is not null)
                    {
                        writer.WriteString("error", outcome.Error);
                    }
                    else if (outcome.Result.ValueKind != JsonValueKind.Undefined)
                    {
                        writer.WritePropertyName("result");
                        outcome.Result.WriteTo(writer);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads a record written by <see cref="Encode"/>; throws <see cref="FormatException"/> for anything else.</summary>
    public static GroupState Decode(string groupId, byte[] value)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            var root = document.RootElement;
            var group = new GroupState(groupId)
            {
                Status = root.GetProperty("status").GetString() switch
                {
                    "open" => GroupStatus.Open,
                    "awaiting-create" => GroupStatus.AwaitingCreate,
                    "resolved" => GroupStatus.Resolved,
                    var other => throw new FormatException($"unknown status '{other}'"),
                },
                Created = root.GetProperty("created").GetDateTimeOffset(),
            };
            if (group.Status == GroupStatus.Resolved)
            {
                group.ResolvedAt = root.GetProperty("resolvedAt").GetDateTimeOffset();
                group.Emitted = root.GetProperty("emitted").GetBoolean();
                if (root.TryGetProperty("result", out var result))
                {
                    group.Result = RawBytes(result);
                }

                return group;
            }

            group.TtlSeconds = root.GetProperty("ttl").GetInt64();
            group.Expected = [.. root.GetProperty("expected").EnumerateArray().Select(e => e.GetString()!)];
            group.Payload = root.TryGetProperty("payload", out var payload) ? payload.Clone() : default;
            foreach (var entity in root.GetProperty("done").EnumerateObject())
            {
                var error = entity.Value.TryGetProperty("error", out var e) ? e.GetString() : null;
                var outcome = entity.Value.TryGetProperty("result", out var r) ? r.Clone() : default;
                group.Done[entity.Name] = new EntityOutcome(outcome, error);
            }

            return group;
        }
        catch (Exception error) when (error is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"Changelog record of group '{groupId}' is not a group state: {error.Message}"), error);
        }
    }

    private static byte[] RawBytes(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
