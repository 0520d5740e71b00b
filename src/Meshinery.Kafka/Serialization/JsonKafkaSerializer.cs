using System.Text.Json;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// The default serializer of Kafka inputs and outputs: System.Text.Json with web defaults (camelCase names,
/// case-insensitive reading). A message that is not valid JSON for <typeparamref name="T"/> fails to deserialize and
/// goes to the task's error path with its original bytes.
/// </summary>
/// <typeparam name="T">The message type.</typeparam>
public sealed class JsonKafkaSerializer<T> : ISerializer<T>, IDeserializer<T>
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the serializer.</summary>
    /// <param name="options">The JSON options. Default: <see cref="JsonSerializerDefaults.Web"/>.</param>
    public JsonKafkaSerializer(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
    }

    /// <inheritdoc/>
    public byte[] Serialize(T data, SerializationContext context) => JsonSerializer.SerializeToUtf8Bytes(data, _options);

    /// <inheritdoc/>
    public T Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        if (isNull)
        {
            throw new JsonException("The message has no value (null).");
        }

        return JsonSerializer.Deserialize<T>(data, _options)
            ?? throw new JsonException($"The message value is JSON null, not a {typeof(T).Name}.");
    }
}

/// <summary>Chooses the serializer of a message type when the user gave none.</summary>
internal static class DefaultSerializers
{
    public static IDeserializer<T> Deserializer<T>() =>
        typeof(T) == typeof(string) ? (IDeserializer<T>)Deserializers.Utf8
        : typeof(T) == typeof(byte[]) ? (IDeserializer<T>)Deserializers.ByteArray
        : new JsonKafkaSerializer<T>();

    public static ISerializer<T> Serializer<T>() =>
        typeof(T) == typeof(string) ? (ISerializer<T>)Serializers.Utf8
        : typeof(T) == typeof(byte[]) ? (ISerializer<T>)Serializers.ByteArray
        : new JsonKafkaSerializer<T>();
}
