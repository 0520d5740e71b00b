using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>Settings of one <see cref="KafkaOutput{T}"/>; unset values come from <see cref="KafkaOptions"/>.</summary>
/// <typeparam name="T">The message value type.</typeparam>
public sealed class KafkaOutputOptions<T>
{
    /// <summary>The brokers. Default: <see cref="KafkaOptions.BootstrapServers"/>.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Chooses each message's key (written as UTF-8). Default: no key.</summary>
    public Func<T, string?>? Key { get; set; }

    /// <summary>Chooses each message's headers. Default: none (besides the trace context).</summary>
    public Func<T, Headers?>? Headers { get; set; }

    /// <summary>
    /// Turns items into message values. Default: UTF-8 for <see cref="string"/>, the bytes themselves for <c>byte[]</c>,
    /// otherwise <see cref="JsonKafkaSerializer{T}"/>. An item it cannot serialize goes to the task's error path.
    /// </summary>
    public ISerializer<T>? Serializer { get; set; }

    /// <summary>Extra librdkafka producer settings for this output, applied after <see cref="KafkaOptions.ProducerConfig"/>.</summary>
    public IDictionary<string, string> ProducerConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
