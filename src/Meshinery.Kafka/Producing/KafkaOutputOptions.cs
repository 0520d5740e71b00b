using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>Settings of one <see cref="KafkaOutput{T}"/>; unset values come from <see cref="KafkaOptions"/>.</summary>
/// <typeparam name="T">The message value type.</typeparam>
public sealed class KafkaOutputOptions<T>
{
    /// <summary>The brokers. Default: <see cref="KafkaOptions.BootstrapServers"/>.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>
    /// Chooses each message's key (written as UTF-8; <see langword="null"/> writes no key): set it to re-key a stream,
    /// which repartitions it. Default: the key of the Kafka message the run read (none for items from other inputs),
    /// so a step that maps only the value keeps the partitioning. <c>Key = _ => null</c> writes no key.
    /// </summary>
    public Func<T, string?>? Key { get; set; }

    /// <summary>
    /// Chooses each message's partition from the item, the key written (its bytes, or <see langword="null"/>) and the
    /// destination topic's partition count. A partition outside <c>0..count-1</c> sends the item to the task's error
    /// path with the value in the reason. Default: none (librdkafka's partitioner hashes the key; no key spreads
    /// messages).
    /// </summary>
    public Func<T, byte[]?, int, int>? Partition { get; set; }

    /// <summary>
    /// Chooses each message's topic (a branch to topics without one output per topic). A <see langword="null"/>,
    /// empty or invalid name (Kafka allows up to 249 of <c>a-z A-Z 0-9 . _ -</c>) sends the item to the task's error
    /// path with the value in the reason. Default: the topic the output was created with.
    /// </summary>
    public Func<T, string?>? Topic { get; set; }

    /// <summary>Chooses each message's headers. Default: none (besides the trace context).</summary>
    public Func<T, Headers?>? Headers { get; set; }

    /// <summary>
    /// Turns items into message values. Default: UTF-8 for <see cref="string"/>, the bytes themselves for <c>byte[]</c>,
    /// otherwise <see cref="JsonKafkaSerializer{T}"/>. An item it cannot serialize goes to the task's error path.
    /// Set this or <see cref="AsyncSerializer"/>, not both.
    /// </summary>
    public ISerializer<T>? Serializer { get; set; }

    /// <summary>
    /// Turns items into message values asynchronously, for example Confluent's Schema Registry serializers
    /// (<c>JsonSerializer&lt;T&gt;</c>, <c>AvroSerializer&lt;T&gt;</c>, <c>ProtobufSerializer&lt;T&gt;</c>); awaited in
    /// the run's write. An item it cannot serialize (it throws or its task faults) goes to the task's error path with
    /// the exception as the reason. Default: none (<see cref="Serializer"/> is used). Set this or
    /// <see cref="Serializer"/>, not both (checked when the engine is built).
    /// </summary>
    public IAsyncSerializer<T>? AsyncSerializer { get; set; }

    /// <summary>
    /// Whether <see cref="Key"/>, <see cref="Partition"/>, <see cref="Topic"/>, <see cref="Headers"/> or
    /// <see cref="Serializer"/> may block (synchronous I/O, a lock held for long, a wait on a task). They run inside the
    /// output's write, which the engine calls on the .NET thread-pool thread that completed the run's previous await
    /// when the write cannot block (<see cref="OutputSink.IsNonBlocking"/>): Confluent's produce itself returns at once
    /// (a full local queue fails the write with <c>Local_QueueFull</c>, which is retried as transient). Set this to
    /// <see langword="true"/> to have every write of this output run on a worker thread instead. Default:
    /// <see langword="false"/>; a <see cref="Serializer"/> that is Confluent's <c>SyncOverAsyncSerializer</c> (which
    /// blocks on an async serializer) counts as blocking whatever this says.
    /// </summary>
    public bool FunctionsMayBlock { get; set; }

    /// <summary>Extra librdkafka producer settings for this output, applied after <see cref="KafkaOptions.ProducerConfig"/>.</summary>
    public IDictionary<string, string> ProducerConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
