using System.Text;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Writes items to a Kafka topic with an idempotent producer (unless configured otherwise). Each write completes when
/// the broker has acknowledged the message, so the run's input is committed only after its output is durable. Key and
/// headers are chosen per item.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class KafkaOutput<T> : KafkaProducerSink<T>
{
    private readonly KafkaOutputOptions<T> _options;
    private readonly ISerializer<T> _serializer;

    /// <summary>Creates the output.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="configure">Sets key, headers, serializer and producer settings.</param>
    public KafkaOutput(string topic, Action<KafkaOutputOptions<T>>? configure = null)
        : this(topic, Configure(configure))
    {
    }

    private KafkaOutput(string topic, KafkaOutputOptions<T> options)
        : base(topic, options.BootstrapServers, options.ProducerConfig)
    {
        _options = options;
        _serializer = options.Serializer ?? DefaultSerializers.Serializer<T>();
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        var key = _options.Key?.Invoke(item);
        var headers = _options.Headers?.Invoke(item);
        var message = new Message<byte[]?, byte[]?>
        {
            Key = key is null ? null : Encoding.UTF8.GetBytes(key),
            Value = _serializer.Serialize(item, new SerializationContext(MessageComponentType.Value, Topic, headers)),
            Headers = headers,
        };
        return ProduceAsync(message, cancellationToken);
    }

    private static KafkaOutputOptions<T> Configure(Action<KafkaOutputOptions<T>>? configure)
    {
        var options = new KafkaOutputOptions<T>();
        configure?.Invoke(options);
        return options;
    }
}
