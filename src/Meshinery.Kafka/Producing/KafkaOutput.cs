using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Writes items to a Kafka topic with an idempotent producer (unless configured otherwise). Each write completes when
/// the broker has acknowledged the message, so the run's input is committed only after its output is durable. Key,
/// partition, topic and headers can be chosen per item; by default the key is the input message's.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed partial class KafkaOutput<T> : KafkaProducerSink<T>
{
    private readonly KafkaOutputOptions<T> _options;
    private readonly ISerializer<T> _serializer;
    private readonly PartitionCounts _partitionCounts;

    /// <summary>Creates the output.</summary>
    /// <param name="topic">The topic (see <see cref="KafkaOutputOptions{T}.Topic"/> to choose one per item).</param>
    /// <param name="configure">Sets key, partition, topic, headers, serializer and producer settings.</param>
    public KafkaOutput(string topic, Action<KafkaOutputOptions<T>>? configure = null)
        : this(topic, Configure(configure))
    {
    }

    private KafkaOutput(string topic, KafkaOutputOptions<T> options)
        : base(topic, options.BootstrapServers, options.ProducerConfig)
    {
        _options = options;
        _serializer = options.Serializer ?? DefaultSerializers.Serializer<T>();
        _partitionCounts = new PartitionCounts(() => Admin);
    }

    /// <inheritdoc/>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        var topic = _options.Topic is { } chooseTopic ? ValidTopic(chooseTopic(item)) : Topic;
        var headers = _options.Headers?.Invoke(item);
        var message = new Message<byte[]?, byte[]?>
        {
            Key = _options.Key is { } chooseKey ? Utf8(chooseKey(item)) : InputKey(),
            Value = _serializer.Serialize(item, new SerializationContext(MessageComponentType.Value, topic, headers)),
            Headers = headers,
        };
        return _options.Partition is { } choosePartition
            ? WriteToChosenPartitionAsync(item, topic, message, choosePartition, cancellationToken)
            : ProduceAsync(new TopicPartition(topic, Partition.Any), message, cancellationToken);
    }

    private async ValueTask WriteToChosenPartitionAsync(
        T item, string topic, Message<byte[]?, byte[]?> message, Func<T, byte[]?, int, int> choose, CancellationToken cancellationToken)
    {
        var count = await _partitionCounts.GetAsync(topic, refresh: false).ConfigureAwait(false);
        var partition = choose(item, message.Key, count);
        if (partition >= count && partition >= 0)
        {
            count = await _partitionCounts.GetAsync(topic, refresh: true).ConfigureAwait(false); // the topic may have grown
        }

        if (partition < 0 || partition >= count)
        {
            throw new KafkaRoutingException(
                nameof(KafkaOutputOptions<T>.Partition),
                string.Create(CultureInfo.InvariantCulture, $"Kafka output '{Name}': setting Partition returned {partition} for topic '{topic}', which has {count} partition(s) (0 to {count - 1})"));
        }

        await ProduceAsync(new TopicPartition(topic, new Partition(partition)), message, cancellationToken).ConfigureAwait(false);
    }

    private string ValidTopic(string? topic) =>
        topic is not null && TopicName().IsMatch(topic) && topic is not ("." or "..")
            ? topic
            : throw new KafkaRoutingException(
                nameof(KafkaOutputOptions<T>.Topic),
                $"Kafka output '{Name}': setting Topic returned {(topic is null ? "null" : $"'{topic}'")}, which is not a valid topic name (1 to 249 of a-z A-Z 0-9 . _ -)");

    /// <summary>The key of the Kafka message the current run read, if it read one.</summary>
    private static byte[]? InputKey() => TaskRunContext.Current?.SourceRecord is ConsumeResult<byte[], byte[]> input ? input.Message.Key : null;

    private static byte[]? Utf8(string? key) => key is null ? null : Encoding.UTF8.GetBytes(key);

    private static KafkaOutputOptions<T> Configure(Action<KafkaOutputOptions<T>>? configure)
    {
        var options = new KafkaOutputOptions<T>();
        configure?.Invoke(options);
        return options;
    }

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicName();
}
