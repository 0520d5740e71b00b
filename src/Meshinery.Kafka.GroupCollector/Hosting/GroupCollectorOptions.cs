namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// Settings of one group collector (<see cref="GroupCollectorBuilderExtensions.AddGroupCollector"/>). Validated when
/// the collector is added: a bad value throws a <see cref="MeshineryConfigurationException"/> naming the setting.
/// </summary>
public sealed class GroupCollectorOptions
{
    /// <summary>The prefix of the collector's task names (<c>{Name}.repartition</c>, <c>{Name}.collect</c>, <c>{Name}.expiry</c>). Default: <c>group-collector</c>.</summary>
    public string Name { get; set; } = "group-collector";

    /// <summary>The topic the collector reads create and done events from (unkeyed is fine). Default: <c>eventbus-collector</c>.</summary>
    public string Topic { get; set; } = "eventbus-collector";

    /// <summary>The topic results are written to. Default: <see cref="Topic"/> (the collector skips its own results when reading).</summary>
    public string? OutputTopic { get; set; }

    /// <summary>
    /// The internal topic events are re-keyed into by group id, so that one instance sees all of a group's events.
    /// Default: <c>{Topic}.collector-groups</c>. It must have as many partitions as <see cref="ChangelogTopic"/>.
    /// </summary>
    public string? InternalTopic { get; set; }

    /// <summary>
    /// The changelog topic holding each open group's state, keyed by group id (make it compacted on a real cluster).
    /// Default: <c>{Topic}.collector-changelog</c>. It must have as many partitions as <see cref="InternalTopic"/>.
    /// </summary>
    public string? ChangelogTopic { get; set; }

    /// <summary>Where invalid events go, with their original bytes and the reason. Default: <c>{Topic}.collector-dead-letters</c>.</summary>
    public string? DeadLetterTopic { get; set; }

    /// <summary>
    /// The consumer group of the collector's instances. Default: <c>eventbus-collector</c>; the internal topic is read
    /// by the group <c>{GroupId}.collect</c>.
    /// </summary>
    public string GroupId { get; set; } = "eventbus-collector";

    /// <summary>The brokers. Default: <see cref="KafkaOptions.BootstrapServers"/>.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>The time-to-live of a group whose create event has no <c>ttl</c>. Default: 30 s (as in the seed).</summary>
    public TimeSpan DefaultTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The largest <c>ttl</c> a create event may ask for; larger ones are dead-lettered. Default: 7 days.</summary>
    public TimeSpan MaxTtl { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long done events of a group whose create has not arrived yet are kept. Default: 60 s.</summary>
    public TimeSpan OrphanWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long a resolved group is remembered, so that a redelivered create or done of it changes nothing. Default:
    /// 10 minutes.
    /// </summary>
    public TimeSpan ResolvedRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The most groups one instance keeps open (including groups waiting for their create). A create past it fails its
    /// group at once (a failure event saying so); a done for an unknown group past it is dead-lettered. Resolved groups
    /// are not counted: each is a small record (its id and two times) kept for <see cref="ResolvedRetention"/>.
    /// Default: 100,000.
    /// </summary>
    public int MaxOpenGroups { get; set; } = 100_000;

    /// <summary>The largest number of entities one group may expect. Default: 10,000.</summary>
    public int MaxExpectedEntities { get; set; } = 10_000;

    /// <summary>
    /// How long restoring a changelog partition may take when a partition is assigned before the instance gives up
    /// (a fatal error). Default: 5 minutes.
    /// </summary>
    public TimeSpan RestoreTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Runs of each collector task at once. Default: 1,000.</summary>
    public int MaxInFlight { get; set; } = 1_000;

    /// <summary>The topic results are written to: <see cref="OutputTopic"/> or its default.</summary>
    public string OutputTopicName => OutputTopic ?? Topic;

    /// <summary>The internal topic: <see cref="InternalTopic"/> or its default.</summary>
    public string InternalTopicName => InternalTopic ?? $"{Topic}.collector-groups";

    /// <summary>The changelog topic: <see cref="ChangelogTopic"/> or its default.</summary>
    public string ChangelogTopicName => ChangelogTopic ?? $"{Topic}.collector-changelog";

    /// <summary>The dead-letter topic: <see cref="DeadLetterTopic"/> or its default.</summary>
    public string DeadLetterTopicName => DeadLetterTopic ?? $"{Topic}.collector-dead-letters";

    internal string CollectGroupId => $"{GroupId}.collect";

    /// <summary>Throws one <see cref="MeshineryConfigurationException"/> for the first invalid setting.</summary>
    internal void Validate()
    {
        var task = $"{Name}.collect";
        Require(!string.IsNullOrWhiteSpace(Name), nameof(Name), "is required");
        Require(!string.IsNullOrWhiteSpace(Topic), nameof(Topic), "is required");
        Require(!string.IsNullOrWhiteSpace(GroupId), nameof(GroupId), "is required");
        Require(DefaultTtl > TimeSpan.Zero && DefaultTtl <= MaxTtl, nameof(DefaultTtl), $"must be greater than 0 and at most MaxTtl ({MaxTtl}), not {DefaultTtl}");
        Require(MaxTtl > TimeSpan.Zero && MaxTtl <= TimeSpan.FromDays(365), nameof(MaxTtl), $"must be greater than 0 and at most 365 days, not {MaxTtl}");
        Require(OrphanWait > TimeSpan.Zero, nameof(OrphanWait), $"must be greater than 0, not {OrphanWait}");
        Require(ResolvedRetention >= TimeSpan.Zero, nameof(ResolvedRetention), $"must not be negative, not {ResolvedRetention}");
        Require(MaxOpenGroups > 0, nameof(MaxOpenGroups), $"must be greater than 0, not {MaxOpenGroups}");
        Require(MaxExpectedEntities > 0, nameof(MaxExpectedEntities), $"must be greater than 0, not {MaxExpectedEntities}");
        Require(RestoreTimeout > TimeSpan.Zero, nameof(RestoreTimeout), $"must be greater than 0, not {RestoreTimeout}");
        Require(MaxInFlight > 0, nameof(MaxInFlight), $"must be greater than 0, not {MaxInFlight}");
        var topics = new[] { InternalTopicName, ChangelogTopicName, DeadLetterTopicName };
        Require(!topics.Contains(Topic, StringComparer.Ordinal) && topics.Distinct(StringComparer.Ordinal).Count() == 3, nameof(InternalTopic), "the internal, changelog and dead-letter topics must differ from each other and from Topic");
        Require(!topics.Contains(OutputTopicName, StringComparer.Ordinal), nameof(OutputTopic), "must not be the internal, changelog or dead-letter topic");

        void Require(bool condition, string setting, string problem)
        {
            if (!condition)
            {
                throw new MeshineryConfigurationException(task, $"GroupCollectorOptions.{setting}", problem);
            }
        }
    }
}
