using System.ComponentModel.DataAnnotations;
using Confluent.Kafka;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>
/// Settings shared by every Kafka input and output of the application, set with
/// <see cref="KafkaMeshineryBuilderExtensions.UseKafka"/>. Inputs and outputs can override them one by one.
/// Validated when the application starts; a bad value fails the start with its name.
/// </summary>
public sealed class KafkaOptions
{
    /// <summary>The brokers to connect to, <c>host:port</c> separated by commas. Required.</summary>
    [Required(AllowEmptyStrings = false)]
    public string BootstrapServers { get; set; } = string.Empty;

    /// <summary>The consumer group of inputs that set none of their own. Default: <see langword="null"/> (each input must set one).</summary>
    public string? GroupId { get; set; }

    /// <summary>
    /// What inputs promise. Default: <see cref="KafkaDelivery.AtLeastOnce"/> (commit only offsets whose runs ended
    /// and whose outputs are durable).
    /// </summary>
    public KafkaDelivery Delivery { get; set; } = KafkaDelivery.AtLeastOnce;

    /// <summary>
    /// How often inputs commit the offsets finished since the last commit (nothing is sent when no offset moved). A
    /// crash redoes what finished since the last commit, so it is short. The commits are made on each input's commit
    /// thread, never on its consume thread: a commit that takes longer than this (librdkafka retrying a coordinator
    /// error, a rejoin ahead of it) delays the next one, which then carries the newest finished offsets, while reading
    /// goes on. Used by <see cref="KafkaDelivery.AtLeastOnce"/> only (at most once commits what it reads before handing
    /// it out). Default: 200 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// How long an input waits, when partitions are taken away from it in a rebalance, for their in-flight runs to
    /// finish before it commits what is finished and lets them go. Keep it below the consumer's
    /// <c>max.poll.interval.ms</c>. Default: 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan RevocationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Messages of one partition held at most between the oldest unfinished one and the newest read (buffered, in
    /// flight, or finished but not yet committable). A partition reaching the limit is paused at once until half of it
    /// is committable; other partitions go on. This bounds memory, and with <see cref="CommitInterval"/> the duplicates a
    /// crash can cause (see docs/delivery-guarantees.md). Keep it well above what one partition processes in a second:
    /// librdkafka needs about that long to fetch again after a resume, and the half left when resuming must last until
    /// then. Default: 10,000.
    /// </summary>
    [Range(1, 10_000_000)]
    public int MaxPendingPerPartition { get; set; } = 10_000;

    /// <summary>
    /// How inputs that set none of their own get their partitions: a group protocol, static membership, or a custom
    /// assignment (for example <see cref="PartitionAssignment.ByInstance"/>, applied to each input's topics). A static
    /// assignment names partitions of particular topics, so it belongs on the input: here it fails the engine's build for
    /// every input that would take it, naming <c>KafkaOptions.Assignment</c>. Default: <see langword="null"/>: each input
    /// uses <see cref="PartitionAssignment.CooperativeSticky"/>, or <see cref="PartitionAssignment.Range"/> when it is
    /// copartitioned, or the <c>partition.assignment.strategy</c> its consumer settings name (see docs/topologies.md for
    /// the measured trade-offs).
    /// </summary>
    public PartitionAssignment? Assignment { get; set; }

    /// <summary>
    /// Extra librdkafka consumer settings, applied before the ones Meshinery needs (group, offsets are committed by
    /// Meshinery, so <c>enable.auto.commit</c> and <c>enable.auto.offset.store</c> are always off: setting either to
    /// anything but <c>false</c> fails the start, naming it). Unless set here,
    /// Meshinery uses <c>reconnect.backoff.ms</c> 100, <c>reconnect.backoff.max.ms</c> 1000 and
    /// <c>fetch.error.backoff.ms</c> 100 (librdkafka: 100, 10000, 500), so that reading resumes within about a second
    /// after a broker returns or a fetch fails.
    /// </summary>
    public IDictionary<string, string> ConsumerConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Extra librdkafka producer settings (for example <c>linger.ms</c>, <c>compression.type</c>, security). Unless set
    /// here, Meshinery uses <c>reconnect.backoff.ms</c> 100 and <c>reconnect.backoff.max.ms</c> 1000.
    /// </summary>
    public IDictionary<string, string> ProducerConfig { get; } = new Dictionary<string, string>(StringComparer.Ordinal);

    internal ConsumerConfig CreateConsumerConfig(string bootstrapServers, string groupId, IDictionary<string, string> overrides)
    {
        var config = new ConsumerConfig(Merge(ConsumerConfig, overrides))
        {
            BootstrapServers = bootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
        };
        config.AutoOffsetReset ??= AutoOffsetReset.Earliest;
        config.QueuedMaxMessagesKbytes ??= 16 * 1024; // librdkafka's prefetch: bounded, far below its 64 MiB default
        // After a failed fetch librdkafka waits fetch.error.backoff.ms (500 ms) per partition: 15 injected fetch errors
        // stalled reading 5.6 s (docs/reliability.md). 100 ms keeps the retry from spinning and the stall short.
        config.FetchErrorBackoffMs ??= 100;
        ApplyReconnectDefaults(config);
        return config;
    }

    internal ProducerConfig CreateProducerConfig(string bootstrapServers, IDictionary<string, string> overrides)
    {
        var config = new ProducerConfig(Merge(ProducerConfig, overrides))
        {
            BootstrapServers = bootstrapServers,
        };
        config.EnableIdempotence ??= true;
        // Every run waits for its own write: a long linger adds to every run's time in flight, while messages
        // written by concurrent runs are batched anyway during requests in flight.
        config.LingerMs ??= 1;
        ApplyReconnectDefaults(config);
        return config;
    }

    /// <summary>
    /// librdkafka backs off reconnecting up to reconnect.backoff.max.ms (10 s by default), so after a long outage a
    /// client may wait up to that long after the broker returns before it tries again; 100 ms doubling to 1 s bounds that
    /// wait to about a second, at the cost of a connection attempt per second per broker while one is down. In the
    /// fault tool's runs both settings reconnected within 0.1–1.1 s of a 10 s outage; the 9.4 s an instance once took
    /// to get its partitions back was the group rejoining after its session expired (docs/reliability.md).
    /// </summary>
    private static void ApplyReconnectDefaults(ClientConfig config)
    {
        config.ReconnectBackoffMs ??= 100;
        config.ReconnectBackoffMaxMs ??= 1_000;
    }

    /// <summary>The shared settings with an input's or output's own on top.</summary>
    private static Dictionary<string, string> Merge(IDictionary<string, string> shared, IDictionary<string, string> overrides)
    {
        var merged = new Dictionary<string, string>(shared, StringComparer.Ordinal);
        foreach (var (key, value) in overrides)
        {
            merged[key] = value;
        }

        return merged;
    }
}

/// <summary>What a Kafka input promises about each message.</summary>
public enum KafkaDelivery
{
    /// <summary>
    /// The default. An offset is committed only when its run and the runs of every earlier offset of the partition
    /// have ended (completed, dropped or dead-lettered) and their outputs are durable. A crash or a lost partition can
    /// redeliver messages; none is lost.
    /// </summary>
    AtLeastOnce,

    /// <summary>
    /// The original framework's behaviour: offsets are committed as messages are read, before the engine processes
    /// them. A crash loses the messages read and not yet finished; none is processed twice. When the input stops or
    /// gives partitions up, it commits again the offset of the first message the engine has not taken, so only runs
    /// already started can be lost then.
    /// </summary>
    AtMostOnce,
}

/// <summary>Validates <see cref="KafkaOptions"/> at startup (generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class KafkaOptionsValidator : IValidateOptions<KafkaOptions>
{
}
