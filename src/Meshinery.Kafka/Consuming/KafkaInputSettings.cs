using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;

namespace Meshinery.Kafka;

/// <summary>
/// A <see cref="KafkaInput{T}"/>'s settings with the shared <see cref="KafkaOptions"/> applied, resolved and checked
/// once, when the engine is built.
/// </summary>
internal sealed record KafkaInputSettings<T>(
    string BootstrapServers,
    string GroupId,
    KafkaDelivery Delivery,
    int MaxPendingPerPartition,
    TimeSpan CommitInterval,
    TimeSpan RevocationTimeout,
    IDeserializer<T> Deserializer,
    ConsumerConfig ConsumerConfig,
    PartitionAssignment? Assignment,
    bool Copartitioned)
{
    /// <summary>librdkafka's <c>session.timeout.ms</c> when the consumer settings leave it unset.</summary>
    private const int LibrdkafkaSessionTimeoutMs = 45_000;

    /// <summary>
    /// How long the stop's last commit retries a refused commit (a rebalance in progress, a stale generation, the
    /// coordinator moving): 1.5 × <c>session.timeout.ms</c>, at least 3 s and at most 30 s (the host's default shutdown
    /// timeout). A rebalance under way ends within about one session timeout: the coordinator expels members that have
    /// not rejoined by then (librdkafka's mock broker waits <c>session.timeout.ms</c> − 1 s before it completes any
    /// rebalance, during which it refuses every commit). Well below the rebalance timeout (<c>max.poll.interval.ms</c>).
    /// </summary>
    public TimeSpan LastCommitBudget
    {
        get
        {
            var session = TimeSpan.FromMilliseconds(ConsumerConfig.SessionTimeoutMs ?? LibrdkafkaSessionTimeoutMs);
            return TimeSpan.FromMilliseconds(Math.Clamp(session.TotalMilliseconds * 1.5, 3_000, 30_000));
        }
    }

    /// <summary>Resolves the settings; every problem is added to <paramref name="problems"/> (setting, what is wrong).</summary>
    public static KafkaInputSettings<T>? Resolve(
        string input, IReadOnlyList<string> topics, KafkaInputOptions<T> options, KafkaOptions shared, List<KeyValuePair<string, string>> problems)
    {
        var count = problems.Count;
        var bootstrapServers = options.BootstrapServers ?? shared.BootstrapServers;
        if (string.IsNullOrWhiteSpace(bootstrapServers))
        {
            problems.Add(new("BootstrapServers", $"Kafka input '{input}' has no bootstrap servers; call UseKafka(kafka => kafka.BootstrapServers = ...) or set them on the input"));
        }

        var groupId = options.GroupId ?? shared.GroupId;
        if (string.IsNullOrWhiteSpace(groupId))
        {
            problems.Add(new("GroupId", $"Kafka input '{input}' has no consumer group; set KafkaOptions.GroupId or the input's GroupId"));
        }

        var delivery = options.Delivery ?? shared.Delivery;
        if (!Enum.IsDefined(delivery))
        {
            problems.Add(new("Delivery", string.Create(CultureInfo.InvariantCulture, $"Kafka input '{input}': {(int)delivery} is not a KafkaDelivery value")));
        }

        var maxPending = options.MaxPendingPerPartition ?? shared.MaxPendingPerPartition;
        if (maxPending < 1)
        {
            problems.Add(new("MaxPendingPerPartition", string.Create(CultureInfo.InvariantCulture, $"Kafka input '{input}': must be at least 1 (was {maxPending})")));
        }

        if (options is { Deserializer: not null, AsyncDeserializer: not null })
        {
            problems.Add(new(nameof(options.AsyncDeserializer), $"Kafka input '{input}' has both a Deserializer and an AsyncDeserializer; set one of them"));
        }

        if (options.Assignment is null && shared.Assignment is ManualAssignment { IsStatic: true } sharedStatic)
        {
            problems.Add(new("KafkaOptions.Assignment", $"Kafka input '{input}' sets no Assignment of its own, and KafkaOptions.Assignment is a static assignment ({sharedStatic}); a static assignment names partitions of particular topics, so set it on the input (KafkaInputOptions.Assignment); only group protocols, static membership and custom assignments (such as PartitionAssignment.ByInstance) can be shared"));
        }

        CheckCommitSettingsKept(input, options, shared, problems);

        var assignment = options.Assignment ?? shared.Assignment ?? DefaultAssignment(options, shared);
        if (options.Copartitioned && assignment is { KeepsPartitionNumbersTogether: false })
        {
            problems.Add(new("Copartitioned", $"Kafka input '{input}' declares its topics copartitioned, but its assignment '{assignment}' can give partition i of two topics to different instances; use PartitionAssignment.Range (also with StaticMembership) or a static or custom assignment"));
        }

        if (assignment is ManualAssignment { Named: var named } && named.FirstOrDefault(p => !topics.Contains(p.Topic)) is { } foreign)
        {
            problems.Add(new("Assignment", $"Kafka input '{input}' is statically assigned {KafkaFormat.Partition(foreign)}, but reads only {string.Join(", ", topics)}"));
        }

        if (assignment is GroupAssignment { InstanceId: { } instanceId } && string.IsNullOrWhiteSpace(instanceId))
        {
            problems.Add(new("Assignment", $"Kafka input '{input}': StaticMembership needs a non-empty instance id"));
        }

        return problems.Count > count
            ? null
            : new KafkaInputSettings<T>(
                bootstrapServers,
                groupId!,
                delivery,
                maxPending,
                shared.CommitInterval,
                shared.RevocationTimeout,
                options.Deserializer ?? options.AsyncDeserializer?.AsSyncOverAsync() ?? DefaultSerializers.Deserializer<T>(),
                BuildConsumerConfig(input, bootstrapServers, groupId!, options, shared, assignment),
                assignment,
                options.Copartitioned);
    }

    /// <summary>
    /// librdkafka's own commits would break at least once: its auto-commit commits what was read (or stored), not what
    /// finished. Meshinery forces both settings off; one a user turned on is refused, so that nobody believes it works.
    /// </summary>
    private static void CheckCommitSettingsKept(string input, KafkaInputOptions<T> options, KafkaOptions shared, List<KeyValuePair<string, string>> problems)
    {
        foreach (var (where, config) in new[] { ("ConsumerConfig", options.ConsumerConfig), ("KafkaOptions.ConsumerConfig", shared.ConsumerConfig) })
        {
            foreach (var key in (string[])["enable.auto.commit", "enable.auto.offset.store"])
            {
                if (config.TryGetValue(key, out var value) && !string.Equals(value.Trim(), "false", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(new($"{where}[{key}]", $"Kafka input '{input}': '{key}' must stay false (was '{value}'): Meshinery commits each partition only up to its oldest unfinished message, on a commit thread of its own every CommitInterval; librdkafka's own commits would commit messages whose runs have not ended. Remove the setting; tune KafkaOptions.CommitInterval instead"));
                }
            }
        }
    }

    /// <summary>
    /// The protocol of an input that names none: <c>cooperative-sticky</c>, which revoked and redid far less in-flight
    /// work than the eager protocols under churn (docs/topologies.md), except where the input is copartitioned (only
    /// <c>range</c> keeps partition i of its topics together) or its librdkafka settings name a strategy themselves.
    /// </summary>
    private static PartitionAssignment? DefaultAssignment(KafkaInputOptions<T> options, KafkaOptions shared)
    {
        const string Strategy = "partition.assignment.strategy";
        if (options.Copartitioned)
        {
            return PartitionAssignment.Range;
        }

        return options.ConsumerConfig.ContainsKey(Strategy) || shared.ConsumerConfig.ContainsKey(Strategy)
            ? null
            : PartitionAssignment.CooperativeSticky;
    }

    private static ConsumerConfig BuildConsumerConfig(
        string input, string bootstrapServers, string groupId, KafkaInputOptions<T> options, KafkaOptions shared, PartitionAssignment? assignment)
    {
        var config = shared.CreateConsumerConfig(bootstrapServers, groupId, options.ConsumerConfig);
        (assignment as GroupAssignment)?.Configure(config, input);
        return config;
    }
}
