using Confluent.Kafka;
using Meshinery.Kafka.Native;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>
/// Reads one or more Kafka topics as a member of a consumer group. Hundreds of messages of one partition may be in
/// flight at once and finish in any order; offsets are committed safely anyway: per partition, only up to the oldest
/// message whose run has not ended (see <see cref="KafkaDelivery"/>). Commits happen every
/// <see cref="KafkaOptions.CommitInterval"/> (on a commit thread of the input's own, so that reading never waits for
/// one), when partitions are revoked (after their in-flight runs end or
/// <see cref="KafkaOptions.RevocationTimeout"/> passes) and when the engine stops.
/// </summary>
/// <typeparam name="T">The message value type.</typeparam>
/// <remarks>
/// The input runs its own consume thread (<see cref="ConsumeLoop{T}"/>), which owns the Kafka consumer: it reads,
/// deserializes and tracks offsets; <see cref="PartitionSet{T}"/> follows the group's assignments,
/// <see cref="FlowControl{T}"/> pauses partitions with too many pending messages
/// (<see cref="KafkaOptions.MaxPendingPerPartition"/>) and resumes them at half, a <see cref="CommitPolicy{T}"/> per
/// delivery mode decides what is committed when. The engine's poll loop takes the deserialized messages round-robin
/// across partitions (<see cref="HandOutRotation{T}"/>). A message that cannot be deserialized is handed to the task's
/// error path with its original bytes (<see cref="ProcessingFailure.SourceRecord"/> is its
/// <see cref="ConsumeResult{TKey, TValue}"/>). Settings are resolved and checked when the engine is built.
/// </remarks>
public sealed class KafkaInput<T> : InputSource<T>, IReportInputHealth
{
    private readonly KafkaInputOptions<T> _options;
    private readonly HandOutRotation<T> _rotation = new();
    private readonly WaitSignal _stopRequested = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private KafkaInputSettings<T>? _settings;
    private OffsetCommitter? _committer;
    private PartitionSet<T>? _partitions;
    private FlowControl<T>? _flow;
    private ConsumeLoop<T>? _loop;
    private Thread? _thread;
    private InputHealthTracker? _health;
    private IDisposable? _observed;

    /// <summary>Creates an input reading one topic.</summary>
    /// <param name="topic">The topic.</param>
    /// <param name="configure">Sets the input's options; unset ones come from <see cref="KafkaOptions"/>.</param>
    public KafkaInput(string topic, Action<KafkaInputOptions<T>>? configure = null)
        : this([topic], configure)
    {
    }

    /// <summary>Creates an input reading several topics (merged into one task).</summary>
    /// <param name="topics">The topics.</param>
    /// <param name="configure">Sets the input's options; unset ones come from <see cref="KafkaOptions"/>.</param>
    public KafkaInput(IReadOnlyList<string> topics, Action<KafkaInputOptions<T>>? configure = null)
        : base(string.Join(',', topics ?? throw new ArgumentNullException(nameof(topics))))
    {
        if (topics.Count == 0 || topics.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("Name at least one topic, and no empty ones.", nameof(topics));
        }

        Topics = [.. topics];
        _options = new KafkaInputOptions<T>();
        configure?.Invoke(_options);
    }

    /// <summary>The topics read.</summary>
    public IReadOnlyList<string> Topics { get; }

    /// <summary>The consumer group, once the engine is built.</summary>
    public string? GroupId => _settings?.GroupId;

    /// <summary>Partitions assigned to this input now.</summary>
    public int AssignedPartitions => _partitions?.Count ?? 0;

    /// <summary>Partitions paused by back-pressure now.</summary>
    public int PausedPartitions => _flow?.Paused ?? 0;

    /// <summary>How many times a partition was paused by back-pressure.</summary>
    public long Pauses => _flow?.Pauses ?? 0;

    /// <summary>Messages read from Kafka so far (a message read again after a rebalance counts again).</summary>
    public long MessagesRead => _loop?.Read ?? 0;

    /// <summary>The offsets this input committed last, per partition (the next offset to read).</summary>
    public IReadOnlyDictionary<TopicPartition, long> CommittedOffsets => _committer?.Last ?? new Dictionary<TopicPartition, long>();

    /// <summary>
    /// Raised after each successful commit, with the offsets committed: on the input's commit thread for the periodic
    /// commits (at least once), on its consume thread for the others (the last commits of partitions let go, and every
    /// commit at most once). Keep handlers quick and thread-safe: the input reads no messages while a handler runs on its
    /// consume thread, and commits nothing more while one runs on its commit thread.
    /// </summary>
    public event EventHandler<IReadOnlyList<TopicPartitionOffset>>? Committed;

    /// <inheritdoc/>
    public override IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var problems = new List<KeyValuePair<string, string>>();
        _settings = KafkaInputSettings<T>.Resolve(Name, Topics, _options, SharedOptions(services), problems);
        if (_settings is { } settings && GroupClaims.Claim(services, settings.BootstrapServers, settings.GroupId, this, Name) is { } other)
        {
            problems.Add(new("GroupId", $"Kafka input '{Name}' uses consumer group '{settings.GroupId}', which Kafka input '{other}' uses too: two inputs in one group rebalance each other at every start and stop and split each other's topics; give each input its own GroupId (for example '{settings.GroupId}-{Name}')"));
        }

        return problems;
    }

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_settings is null && Validate(context.Services).FirstOrDefault() is { Key: not null } problem)
        {
            throw new MeshineryConfigurationException(context.TaskName, problem.Key, problem.Value);
        }

        var settings = _settings!;
        var logger = context.LoggerFactory.CreateLogger("Meshinery.Kafka");
        var acknowledged = new AcknowledgementSignal();
        var metrics = new InputMetrics(KafkaMetrics.For(context.Services), context.TaskName, Name);
        var committer = _committer = new OffsetCommitter(Name, logger, offsets =>
        {
            _health?.Progressed();
            Committed?.Invoke(this, offsets);
        }, context.TimeProvider, metrics);
        var commits = CommitPolicy<T>.For(
            settings.Delivery, committer, _rotation, _stopRequested, () => new CommitThread<T>(Name, committer, context.TimeProvider, context.ReportFatalError, logger));
        _flow = new FlowControl<T>(Name, settings.MaxPendingPerPartition, commits.Pending, logger);
        var partitions = _partitions = new PartitionSet<T>(
            Name, settings.GroupId, _options, commits, _flow, _rotation, acknowledged, settings.RevocationTimeout,
            context.TimeProvider, () => _stopRequested.Wait(TimeSpan.Zero), context.ReportFatalError, logger);
        var sampler = new PartitionLagSampler(
            context.TimeProvider, () => partitions.All.Select(p => (p.TopicPartition, p.Tracker.CommittableOffset)), committer.LastOf);
        var health = _health = new InputHealthTracker(context.TimeProvider, () => partitions.Count, () => sampler.TotalLag);
        var flow = _flow;

        NativeClient.EnsureLoaded();
        var events = new ClientEvents(logger, context, settings.BootstrapServers);
        var consumer = ClientSettingsCheck.Build(
            () => new ConsumerBuilder<byte[], byte[]>(settings.ConsumerConfig)
                .SetErrorHandler((consumer, error) => events.OnError(consumer.Name, error))
                .SetLogHandler((_, message) => events.OnLog(message))
                .SetPartitionsAssignedHandler((_, assigned) => { partitions.OnAssigned(assigned); health.AssignmentChanged(); metrics.Rebalanced("assigned", assigned.Count); })
                .SetPartitionsRevokedHandler((consumer, revoked) => { partitions.OnRevoked(consumer, revoked); health.AssignmentChanged(); metrics.Rebalanced("revoked", revoked.Count); })
                .SetPartitionsLostHandler((_, lost) => { partitions.OnLost(lost); health.AssignmentChanged(); metrics.Rebalanced("lost", lost.Count); })
                .Build(),
            context.TaskName,
            $"Kafka input '{Name}'",
            nameof(KafkaInputOptions<T>.ConsumerConfig),
            _options.ConsumerConfig,
            SharedOptions(context.Services).ConsumerConfig);

        Membership membership;
        try
        {
            membership = AssignmentCheck.Run(context.TaskName, Name, Topics, settings, consumer) is { } mine
                ? new SelfAssigned<T>(mine, partitions)
                : new GroupMembership(Topics);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }

        var loop = _loop = new ConsumeLoop<T>(
            Name, membership, consumer, settings, partitions, _rotation, commits, _flow, _committer, _stopRequested, context, logger, sampler.Refresh);
        _observed = metrics.Observe(sampler, () => partitions.Count, () => flow.Paused);
        _thread = new Thread(() =>
        {
            try
            {
                loop.Run();
            }
            finally
            {
                _stopped.TrySetResult();
            }
        })
        { IsBackground = true, Name = $"meshinery-kafka-{Name}" };
        _thread.UnsafeStart();
        return default;
    }

    /// <inheritdoc/>
    public override int Poll(Span<SourceItem<T>> buffer)
    {
        var taken = _rotation.Take(buffer);
        if (taken > 0)
        {
            _health?.Progressed();
        }

        return taken;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The partitions held now, when the group last assigned, revoked or lost any, the last item handed out or commit,
    /// and the lag (high watermarks minus committed offsets, computed on the consume thread at most every second).
    /// Before the input starts, every value is unknown.
    /// </remarks>
    public InputHealthSnapshot GetHealthSnapshot() => _health?.Snapshot() ?? default;

    /// <inheritdoc/>
    public override async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        if (_thread is null)
        {
            return;
        }

        _stopRequested.Set();
        await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        _observed?.Dispose();
    }

    private static KafkaOptions SharedOptions(IServiceProvider services) =>
        services.GetService<IOptions<KafkaOptions>>()?.Value ?? new KafkaOptions();
}
