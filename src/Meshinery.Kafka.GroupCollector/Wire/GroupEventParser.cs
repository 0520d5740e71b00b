using System.Globalization;
using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// Reads the seed's events. Field names are matched exactly (as the seed writes them); unknown fields are ignored.
/// Anything else is an <see cref="InvalidGroupEventException"/> whose message says what is wrong.
/// </summary>
internal sealed class GroupEventParser
{
    private readonly long _defaultTtlSeconds;
    private readonly long _maxTtlSeconds;
    private readonly int _maxExpected;

    public GroupEventParser(TimeSpan defaultTtl, TimeSpan maxTtl, int maxExpected)
    {
        _defaultTtlSeconds = (long)Math.Ceiling(defaultTtl.TotalSeconds);
        _maxTtlSeconds = (long)maxTtl.TotalSeconds;
        _maxExpected = maxExpected;
    }

    /// <summary>
    /// Parses one message value. Returns <see langword="null"/> for the collector's own result events, which share the
    /// topic and are skipped; a tick is accepted only when <paramref name="internalTopic"/> is set.
    /// </summary>
    public GroupEvent? Parse(byte[]? value, bool internalTopic = false)
    {
        if (value is null || value.Length == 0)
        {
            throw new InvalidGroupEventException("The message has no value.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(value);
        }
        catch (JsonException error)
        {
            throw new InvalidGroupEventException($"The message is not JSON: {error.Message}", error);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidGroupEventException($"The message is a JSON {Kind(root.ValueKind)}, not an object.");
            }

            var type = root.TryGetProperty("type", out var typeElement) && typeElement.ValueKind == JsonValueKind.String
                ? typeElement.GetString()!
                : throw new InvalidGroupEventException("The event has no string field 'type'.");
            return type switch
            {
                EventTypes.Create => ParseCreate(root),
                EventTypes.EntityDone => ParseDone(root),
                EventTypes.Success or EventTypes.Failure => null,
                EventTypes.Tick when internalTopic => new GroupTick(RequiredString(root, "group", type)),
                _ => throw new InvalidGroupEventException(
                    $"Unknown event type '{type}'; expected {EventTypes.Create} or {EventTypes.EntityDone}."),
            };
        }
    }

    private static string Kind(JsonValueKind kind) => kind.ToString().ToLowerInvariant();

    private static string RequiredString(JsonElement root, string name, string type)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            throw new InvalidGroupEventException($"{type} has no '{name}'.");
        }

        return element.ValueKind == JsonValueKind.String && element.GetString() is { Length: > 0 } text
            ? text
            : throw new InvalidGroupEventException($"{type} field '{name}' must be a non-empty string, not {Describe(element)}.");
    }

    private static string Describe(JsonElement element) =>
        element.ValueKind == JsonValueKind.String ? "an empty string" : $"a JSON {Kind(element.ValueKind)}";

    private GroupCreate ParseCreate(JsonElement root)
    {
        const string type = EventTypes.Create;
        var id = RequiredString(root, "id", type);
        if (!root.TryGetProperty("expected", out var expectedElement) || expectedElement.ValueKind == JsonValueKind.Null)
        {
            throw new InvalidGroupEventException($"{type} '{id}' has no 'expected'.");
        }

        if (expectedElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidGroupEventException($"{type} '{id}' field 'expected' must be an array of entity ids, not a JSON {Kind(expectedElement.ValueKind)}.");
        }

        var count = expectedElement.GetArrayLength();
        if (count == 0 || count > _maxExpected)
        {
            throw new InvalidGroupEventException($"{type} '{id}' must expect between 1 and {_maxExpected} entities, not {count}.");
        }

        var expected = new List<string>(count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entity in expectedElement.EnumerateArray())
        {
            if (entity.ValueKind != JsonValueKind.String || entity.GetString() is not { Length: > 0 } entityId)
            {
                throw new InvalidGroupEventException($"{type} '{id}' field 'expected' must hold non-empty strings, not {Describe(entity)}.");
            }

            if (!seen.Add(entityId))
            {
                throw new InvalidGroupEventException($"{type} '{id}' expects entity '{entityId}' twice.");
            }

            expected.Add(entityId);
        }

        var ttl = _defaultTtlSeconds;
        if (root.TryGetProperty("ttl", out var ttlElement) && ttlElement.ValueKind != JsonValueKind.Null)
        {
            if (ttlElement.ValueKind != JsonValueKind.Number || !ttlElement.TryGetInt64(out ttl))
            {
                throw new InvalidGroupEventException($"{type} '{id}' field 'ttl' must be a whole number of seconds, not {ttlElement.GetRawText()}.");
            }

            if (ttl <= 0 || ttl > _maxTtlSeconds)
            {
                throw new InvalidGroupEventException(string.Create(
                    CultureInfo.InvariantCulture, $"{type} '{id}' field 'ttl' must be between 1 and {_maxTtlSeconds} seconds, not {ttl}."));
            }
        }

        var payload = root.TryGetProperty("payload", out var payloadElement) ? payloadElement.Clone() : default;
        return new GroupCreate(id, expected, ttl, payload);
    }

    private static EntityDone ParseDone(JsonElement root)
    {
        const string type = EventTypes.EntityDone;
        var id = RequiredString(root, "id", type);
        if (!root.TryGetProperty("group", out _))
        {
            throw new InvalidGroupEventException($"{type} '{id}' has no 'group'.");
        }

        var group = RequiredString(root, "group", type);
        string? error = null;
        if (root.TryGetProperty("error", out var errorElement) && errorElement.ValueKind != JsonValueKind.Null)
        {
            error = errorElement.ValueKind == JsonValueKind.String && errorElement.GetString() is { Length: > 0 } text
                ? text
                : throw new InvalidGroupEventException($"{type} '{id}' field 'error' must be a non-empty string, not {Describe(errorElement)}.");
        }

        var result = error is null && root.TryGetProperty("result", out var resultElement) ? resultElement.Clone() : default;
        return new EntityDone(group, id, result, error);
    }
}
