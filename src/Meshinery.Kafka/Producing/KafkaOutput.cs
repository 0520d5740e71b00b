using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;

namespace Meshinery.Kafka;

/// <summary>
/// Writes items to a Kafka topic with an idempotent producer (unless configured otherwise). Each write completes when
/// the broker has acknowledged the message, so the run's input is committed only after its output is durable. Key,
/// partition, topic and headers can be chosen per item; by default the key is the input message's.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed partial class KafkaOutput<T> : OutputSink<T>
{
    private readonly KafkaOutputOptions<T> _options;
    private readonly KafkaProducerClient _client;
    private readonly PartitionCounts _partitionCounts;
    private readonly ISerializer<T> _serializer;
    private readonly bool _isNonBlocking;
    private readonly TopicPartition _anyPartitionOfTopic; // immutable: shared by every write to the default topic

    /// <summary>Creates the output.</summary>
    /// <param name="topic">The topic (see <see cref="KafkaOutputOptions{T}.Topic"/> to choose one per item).</param>
    /// <param name="configure">Sets key, partition, topic, headers, serializer and producer settings.</param>
    public KafkaOutput(string topic, Action<KafkaOutputOptions<T>>? configure = null)
        : base(topic)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        _options = new KafkaOutputOptions<T>();
        configure?.Invoke(_options);
        _serializer = _options.Serializer ?? DefaultSerializers.Serializer<T>(); // unused when AsyncSerializer is set
        _isNonBlocking = !_options.FunctionsMayBlock && _options.Serializer is not SyncOverAsyncSerializer<T>;
        _client = new KafkaProducerClient(Name, topic, _options.BootstrapServers, _options.ProducerConfig);
        _anyPartitionOfTopic = new TopicPartition(topic, Partition.Any);
        _partitionCounts = new PartitionCounts(() => _client.Admin);
    }

    /// <summary>The topic written to (unless <see cref="KafkaOutputOptions{T}.Topic"/> chooses one per item).</summary>
    public string Topic => _client.Topic;

    /// <inheritdoc/>
    public override IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var problems = _client.Validate(services).ToList();
        if (_options is { Serializer: not null, AsyncSerializer: not null })
        {
            problems.Add(new(nameof(KafkaOutputOptions<T>.AsyncSerializer), $"Kafka output '{Name}' has both a Serializer and an AsyncSerializer; set one of them"));
        }

        return problems;
    }

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        _client.Start(context);
        return default;
    }

    /// <inheritdoc/>
    public override ValueTask StopAsync(CancellationToken cancellationToken) => _client.StopAsync(cancellationToken);

    /// <summary>
    /// Broker and network trouble is transient (the write is retried); a message the broker can never accept, a
    /// serializer failure or a fatal client error is not (the item goes to the error path).
    /// </summary>
    /// <param name="exception">What the write threw.</param>
    /// <returns>Whether to retry.</returns>
    public override bool IsTransient(Exception exception) => KafkaProducerClient.IsTransient(exception);

    /// <summary>
    /// A write never blocks unless the output's own functions may (<see cref="KafkaOutputOptions{T}.FunctionsMayBlock"/>,
    /// or a sync-over-async serializer): Confluent's produce hands the message to librdkafka's queue and returns, a full
    /// queue fails at once (<c>Local_QueueFull</c>, transient), and a chosen partition's topic metadata is fetched off the
    /// calling thread.
    /// </summary>
    /// <value>Whether the engine may call the write on the thread that completed the run's previous await.</value>
    public override bool IsNonBlocking => _isNonBlocking;

    /// <inheritdoc/>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        var topic = _options.Topic is { } chooseTopic ? ValidTopic(chooseTopic(item)) : Topic;
        var headers = _options.Headers?.Invoke(item);
        var key = _options.Key is { } chooseKey ? Utf8(chooseKey(item)) : InputKey();
        var context = new SerializationContext(MessageComponentType.Value, topic, headers);
        if (_options.AsyncSerializer is { } asyncSerializer)
        {
            return WriteSerializedAsync(item, topic, key, headers, asyncSerializer.SerializeAsync(item, context), cancellationToken);
        }

        var value = _serializer.Serialize(item, context);
        return WriteAsync(item, topic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers }, cancellationToken);
    }

    private async ValueTask WriteSerializedAsync(
        T item, string topic, byte[]? key, Headers? headers, Task<byte[]> serializing, CancellationToken cancellationToken)
    {
        var value = await serializing.ConfigureAwait(false);
        await WriteAsync(item, topic, new Message<byte[]?, byte[]?> { Key = key, Value = value, Headers = headers }, cancellationToken).ConfigureAwait(false);
    }

    private ValueTask WriteAsync(T item, string topic, Message<byte[]?, byte[]?> message, CancellationToken cancellationToken) =>
        _options.Partition is { } choosePartition
            ? WriteToChosenPartitionAsync(item, topic, message, choosePartition, cancellationToken)
            : _client.ProduceAsync(topic == Topic ? _anyPartitionOfTopic : new TopicPartition(topic, Partition.Any), message, cancellationToken);

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

        await _client.ProduceAsync(new TopicPartition(topic, new Partition(partition)), message, cancellationToken).ConfigureAwait(false);
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

    [GeneratedRegex("^[a-zA-Z0-9._-]{1,249}$", RegexOptions.CultureInvariant)]
    private static partial Regex TopicName();
}
