using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>Settings of one <see cref="KafkaInput{T}"/>; unset values come from <see cref="KafkaOptions"/>.</summary>
/// <typeparam name="T">The message value type.</typeparam>
public sealed class KafkaInputOptions<T>
{
    /// <summary>The consumer group. Default: <see cref="KafkaOptions.GroupId"/>; one of them is required.</summary>
    public string? GroupId { get; set; }

    /// <summary>The brokers. Default: <see cref="KafkaOptions.BootstrapServers"/>.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>
    /// Turns message values into items. Default: UTF-8 for <see cref="string"/>, the raw bytes for <c>byte[]</c>,
    /// otherwise <see cref="JsonKafkaSerializer{T}"/>. A value it cannot deserialize goes to the task's error path
    /// with its original bytes. Set this or <see cref="AsyncDeserializer"/>, not both.
    /// </summary>
    public IDeserializer<T>? Deserializer { get; set; }

    /// <summary>
    /// Turns message values into items asynchronously, for example Confluent's Schema Registry deserializers
    /// (<c>JsonDeserializer&lt;T&gt;</c>, <c>AvroDeserializer&lt;T&gt;</c>). It runs on the input's consume thread, which
    /// waits for it (as Confluent's <c>AsSyncOverAsync</c> does): keep it quick once warm (Schema Registry serdes cache
    /// their schemas), since the input reads nothing meanwhile. A value it cannot deserialize (it throws or its task
    /// faults) goes to the task's error path with its original bytes and the exception as the reason. Default: none
    /// (<see cref="Deserializer"/> is used). Set this or <see cref="Deserializer"/>, not both (checked when the engine
    /// is built).
    /// </summary>
    public IAsyncDeserializer<T>? AsyncDeserializer { get; set; }

    /// <summary>What the input promises. Default: <see cref="KafkaOptions.Delivery"/>.</summary>
    public KafkaDelivery? Delivery { get; set; }

    /// <summary>The per-partition pending limit. Default: <see cref="KafkaOptions.MaxPendingPerPartition"/>.</summary>
    public int? MaxPendingPerPartition { get; set; }

    /// <summary>
    /// Called on the input's consume thread when partitions are assigned to it, before any of their messages is read.
    /// Components that keep state per partition (restored from a changelog, for example) load it here; the input reads
    /// nothing while it runs. One that throws stops the engine with that exception (logged as event 115); the partitions
    /// are still assigned so that the consumer can leave the group. Default: none.
    /// </summary>
    public Action<IReadOnlyList<TopicPartition>>? PartitionsAssigned { get; set; }

    /// <summary>
    /// Called on the input's consume thread when partitions are revoked or lost, after their handed-out runs ended (or
    /// <see cref="KafkaOptions.RevocationTimeout"/> passed) and their finished offsets were committed; acknowledgements
    /// of their runs are ignored from then on. Per-partition state is dropped here. One that throws stops the engine, as
    /// for <see cref="PartitionsAssigned"/>. Default: none.
    /// </summary>
    public Action<IReadOnlyList<TopicPartition>>? PartitionsRevoked { get; set; }

    /// <summary>
    /// How the input gets its partitions (<see cref="PartitionAssignment"/>: a group protocol, static membership,
    /// static or custom assignment). Default: <see cref="KafkaOptions.Assignment"/>; where both are unset,
    /// <see cref="PartitionAssignment.CooperativeSticky"/> (incremental rebalances: only moved partitions stop), or
    /// <see cref="PartitionAssignment.Range"/> when <see cref="Copartitioned"/> is set, or the consumer settings'
    /// own <c>partition.assignment.strategy</c> when they have one. When set, it wins over that setting.
    /// </summary>
    public PartitionAssignment? Assignment { get; set; }

    /// <summary>
    /// Declares the input's topics copartitioned: partition <c>i</c> of every topic is always read by the same instance,
    /// through rebalances. At start their partition counts are checked (a difference fails the start naming each topic
    /// and its count). Needs <see cref="PartitionAssignment.Range"/> (the default then, also with static membership) or a
    /// static or custom assignment that picks partition <c>i</c> of every topic. Default: <see langword="false"/>.
    /// </summary>
    public bool Copartitioned { get; set; }

    /// <summary>Extra librdkafka consumer settings for this input, applied after <see cref="KafkaOptions.ConsumerConfig"/>.</summary>
    public IDictionary<string, string> ConsumerConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);
}
