using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>
/// Reads one or more Kafka topics as a member of a consumer group. Hundreds of messages of one partition may be in
/// flight at once and finish in any order; offsets are committed safely anyway: per partition, only up to the oldest
/// message whose run has not ended (see <see cref="KafkaDelivery"/>). Commits happen every
/// <see cref="KafkaOptions.CommitInterval"/>, when partitions are revoked (after their in-flight runs end or
/// <see cref="KafkaOptions.RevocationTimeout"/> passes) and when the engine stops.
/// </summary>
/// <typeparam name="T">The message value type.</typeparam>
/// <remarks>
/// The input runs its own consume thread, which owns the Kafka consumer: it reads, deserializes, tracks offsets,
/// commits, pauses partitions with too many pending messages (<see cref="KafkaOptions.MaxPendingPerPartition"/>) and
/// resumes them when half of that is committable. The engine's poll loop takes the deserialized messages round-robin
/// across partitions. A message that cannot be deserialized is handed to the task's error path with its original
/// bytes (<see cref="ProcessingFailure.Raw"/> is its <see cref="ConsumeResult{TKey, TValue}"/>).
/// </remarks>
public sealed class KafkaInput<T> : InputSource<T>
{
    private const int MaxBatch = 1_000;
    private static readonly TimeSpan s_idleConsumeTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_pausedConsumeTimeout = TimeSpan.FromMilliseconds(5);

    private readonly KafkaInputOptions<T> _options;
    private readonly Lock _bufferLock = new();
    private readonly Queue<PartitionState<T>> _rotation = new();
    private readonly Dictionary<TopicPartition, PartitionState<T>> _partitions = [];
    private readonly ConcurrentDictionary<TopicPartition, long> _committed = new();
    private readonly WaitSignal _acknowledged = new();
    private readonly WaitSignal _stopRequested = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SourceContext _context = null!;
    private ILogger _logger = null!;
    private IConsumer<byte[], byte[]>? _consumer;
    private IDeserializer<T> _deserializer = null!;
    private KafkaDelivery _delivery;
    private int _maxPending;
    private TimeSpan _commitInterval;
    private TimeSpan _revocationTimeout;
    private string _bootstrapServers = string.Empty;
    private Thread? _thread;
    private volatile bool _stopping;
    private volatile bool _revocationWaiting;
    private int _assigned;
    private int _paused;
    private long _pauses;
    private long _read;

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

    /// <summary>The consumer group, once started.</summary>
    public string? GroupId { get; private set; }

    /// <summary>Partitions assigned to this input now.</summary>
    public int AssignedPartitions => Volatile.Read(ref _assigned);

    /// <summary>Partitions paused by back-pressure now.</summary>
    public int PausedPartitions => Volatile.Read(ref _paused);

    /// <summary>How many times a partition was paused by back-pressure.</summary>
    public long Pauses => Interlocked.Read(ref _pauses);

    /// <summary>Messages read from Kafka so far (a message read again after a rebalance counts again).</summary>
    public long MessagesRead => Interlocked.Read(ref _read);

    /// <summary>The offsets this input committed last, per partition (the next offset to read).</summary>
    public IReadOnlyDictionary<TopicPartition, long> CommittedOffsets => new Dictionary<TopicPartition, long>(_committed);

    /// <summary>
    /// Raised on the input's consume thread after each successful commit, with the offsets committed. Keep handlers
    /// quick: the input reads no messages while they run.
    /// </summary>
    public event EventHandler<IReadOnlyList<TopicPartitionOffset>>? Committed;

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("Meshinery.Kafka");
        var shared = context.Services.GetService<IOptions<KafkaOptions>>()?.Value ?? new KafkaOptions();
        _bootstrapServers = _options.BootstrapServers ?? shared.BootstrapServers;
        GroupId = _options.GroupId ?? shared.GroupId;
        if (string.IsNullOrWhiteSpace(_bootstrapServers))
        {
            throw new MeshineryConfigurationException(
                context.TaskName, "BootstrapServers", $"Kafka input '{Name}' has no bootstrap servers; call UseKafka(kafka => kafka.BootstrapServers = ...) or set them on the input");
        }

        if (string.IsNullOrWhiteSpace(GroupId))
        {
            throw new MeshineryConfigurationException(
                context.TaskName, "GroupId", $"Kafka input '{Name}' has no consumer group; set KafkaOptions.GroupId or the input's GroupId");
        }

        _delivery = _options.Delivery ?? shared.Delivery;
        _maxPending = _options.MaxPendingPerPartition ?? shared.MaxPendingPerPartition;
        if (_maxPending < 1)
        {
            throw new MeshineryConfigurationException(context.TaskName, "MaxPendingPerPartition", $"must be at least 1 (was {_maxPending})");
        }

        _commitInterval = shared.CommitInterval;
        _revocationTimeout = shared.RevocationTimeout;
        _deserializer = _options.Deserializer ?? DefaultSerializers.Deserializer<T>();

        var events = new ClientEvents(_logger, context, _bootstrapServers);
        _consumer = new ConsumerBuilder<byte[], byte[]>(shared.CreateConsumerConfig(_bootstrapServers, GroupId, _options.ConsumerConfig))
            .SetErrorHandler((consumer, error) => events.OnError(consumer.Name, error))
            .SetLogHandler((_, message) => events.OnLog(message))
            .SetPartitionsAssignedHandler((_, partitions) => OnAssigned(partitions))
            .SetPartitionsRevokedHandler((_, partitions) => OnRevoked(partitions))
            .SetPartitionsLostHandler((_, partitions) => OnLost(partitions))
            .Build();

        _thread = new Thread(ConsumeLoop) { IsBackground = true, Name = $"meshinery-kafka-{Name}" };
        _thread.UnsafeStart();
        return default;
    }

    /// <inheritdoc/>
    public override int Poll(Span<SourceItem<T>> buffer)
    {
        var count = 0;
        lock (_bufferLock)
        {
            // Round-robin, one message per partition at a time, so a partition with a large backlog cannot starve others.
            while (count < buffer.Length && _rotation.TryDequeue(out var partition))
            {
                if (partition.IsRevoked || partition.Buffer.Count == 0)
                {
                    partition.IsInRotation = false;
                    continue;
                }

                buffer[count++] = partition.TakeNext();
                if (partition.Buffer.Count > 0)
                {
                    _rotation.Enqueue(partition);
                }
                else
                {
                    partition.IsInRotation = false;
                }
            }
        }

        return count;
    }

    /// <inheritdoc/>
    public override async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        if (_thread is null)
        {
            return;
        }

        _stopping = true;
        _stopRequested.Set();
        await _stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Called by a partition state after an acknowledgement (run loop thread).</summary>
    internal void OnAcknowledged()
    {
        if (_revocationWaiting)
        {
            _acknowledged.Set();
        }
    }

    private void ConsumeLoop()
    {
        var consumer = _consumer!;
        var batch = new List<(PartitionState<T> Partition, SourceItem<T> Item)>(MaxBatch);
        var nextCommit = _context.TimeProvider.GetTimestamp() + ToTimestampTicks(_commitInterval);
        try
        {
            consumer.Subscribe(Topics);
            while (!_stopping)
            {
                ConsumeBatch(consumer, batch, Volatile.Read(ref _paused) > 0 ? s_pausedConsumeTimeout : s_idleConsumeTimeout);

                if (_context.TimeProvider.GetTimestamp() >= nextCommit)
                {
                    Commit(consumer, _partitions.Values);
                    nextCommit = _context.TimeProvider.GetTimestamp() + ToTimestampTicks(_commitInterval);
                }

                if (Volatile.Read(ref _paused) > 0)
                {
                    ResumeDrained(consumer);
                }
            }

            // The engine has drained (or abandoned) its runs before stopping its sources: commit what is finished, then
            // leave the group. The revocation that follows does not wait: a run still going now ignores cancellation.
            Commit(consumer, _partitions.Values);
            RewindUntaken(consumer, _partitions.Values);
            KafkaLog.InputStopped(_logger, Name, FormatOffsets(_committed));
            consumer.Close();
        }
        catch (KafkaException error) when (error.Error.IsFatal)
        {
            KafkaLog.FatalClientError(_logger, consumer.Name, error.Error.Code, error.Error.Reason);
            _context.ReportFatalError(error);
        }
        catch (Exception error)
        {
            KafkaLog.ConsumeFailed(_logger, error, Name);
            _context.ReportFatalError(error);
        }
        finally
        {
            consumer.Dispose();
            _stopped.TrySetResult();
        }
    }

    /// <summary>
    /// Reads what is ready (up to a batch), tracks and deserializes each message, pauses a partition the moment it
    /// reaches its pending limit (librdkafka then drops what it had prefetched for it, so a partition holds at most
    /// its limit), and hands the batch to the engine.
    /// </summary>
    private void ConsumeBatch(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, SourceItem<T> Item)> items, TimeSpan timeout)
    {
        try
        {
            var result = consumer.Consume(timeout);
            while (result is not null)
            {
                if (!result.IsPartitionEOF && Accept(result, items) is { IsPaused: false } partition && Pending(partition) >= _maxPending)
                {
                    Pause(consumer, partition);
                }

                if (items.Count >= MaxBatch)
                {
                    break;
                }

                result = consumer.Consume(TimeSpan.Zero);
            }
        }
        catch (ConsumeException error) when (!error.Error.IsFatal)
        {
            KafkaLog.ConsumeFailed(_logger, error, Name);
            _stopRequested.Wait(TimeSpan.FromSeconds(1)); // back off; a stop ends the wait at once
        }

        if (items.Count > 0)
        {
            Publish(consumer, items);
            items.Clear();
        }
    }

    /// <summary>Tracks and deserializes one message; returns its partition, or <see langword="null"/> when it is skipped.</summary>
    private PartitionState<T>? Accept(ConsumeResult<byte[], byte[]> result, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        if (!_partitions.TryGetValue(result.TopicPartition, out var partition))
        {
            return null; // revoked while the message was on its way
        }

        var offset = result.Offset.Value;
        if (offset <= partition.LastTracked)
        {
            KafkaLog.DuplicateSkipped(_logger, Name, Format(result.TopicPartition), offset);
            return null;
        }

        partition.LastTracked = offset;
        if (_delivery == KafkaDelivery.AtLeastOnce)
        {
            partition.Tracker.Track(offset);
        }

        partition.Unpublished++;
        items.Add((partition, Deserialize(result, partition)));
        return partition;
    }

    private void Publish(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        Interlocked.Add(ref _read, items.Count);

        // A rebalance runs inside Consume, so a partition may have been revoked after some of its messages joined the
        // batch. They were never committed (the next owner reads them again): drop them, and never commit for them.
        items.RemoveAll(i => i.Partition.IsRevoked);
        if (items.Count == 0)
        {
            return;
        }

        if (_delivery == KafkaDelivery.AtMostOnce)
        {
            CommitRead(consumer, items);
        }

        lock (_bufferLock)
        {
            foreach (var (partition, item) in items)
            {
                partition.Unpublished = 0;
                partition.Buffer.Enqueue(item);
                if (!partition.IsInRotation)
                {
                    partition.IsInRotation = true;
                    _rotation.Enqueue(partition);
                }
            }
        }

        _context.NotifyItemsAvailable();
    }

    private void Pause(IConsumer<byte[], byte[]> consumer, PartitionState<T> partition)
    {
        consumer.Pause([partition.TopicPartition]);
        partition.IsPaused = true;
        Interlocked.Increment(ref _paused);
        Interlocked.Increment(ref _pauses);
        KafkaLog.PartitionPaused(_logger, Name, Format(partition.TopicPartition), Pending(partition));
    }

    private SourceItem<T> Deserialize(ConsumeResult<byte[], byte[]> result, PartitionState<T> partition)
    {
        var position = new SourcePosition(result.Topic, result.Partition.Value, result.Offset.Value);
        try
        {
            var bytes = result.Message.Value;
            var value = _deserializer.Deserialize(
                bytes, bytes is null, new SerializationContext(MessageComponentType.Value, result.Topic, result.Message.Headers));
            return new SourceItem<T>(value, position, partition, result) { ParentActivityContext = TraceParent(result), Key = result.Message.Key };
        }
        catch (Exception error)
        {
            return SourceItem.Unreadable<T>(error, position, partition, result) with { ParentActivityContext = TraceParent(result), Key = result.Message.Key };
        }
    }

    /// <summary>The W3C trace context in the message's <c>traceparent</c> header (as the Kafka outputs write it), if any.</summary>
    private static ActivityContext TraceParent(ConsumeResult<byte[], byte[]> result) =>
        result.Message.Headers is { } headers && headers.TryGetLastBytes("traceparent", out var bytes)
            && ActivityContext.TryParse(Encoding.ASCII.GetString(bytes), null, out var context)
            ? context
            : default;

    /// <summary>At-most-once: the read offsets are committed before the engine sees the messages.</summary>
    private void CommitRead(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        var offsets = items
            .GroupBy(i => i.Partition)
            .Select(g => new TopicPartitionOffset(g.Key.TopicPartition, new Offset(g.Max(i => i.Item.Position.Offset) + 1)))
            .ToList();
        // The engine must not see the messages before they are committed; a stop ends the retries.
        while (!TryCommit(consumer, offsets) && !_stopping)
        {
            _stopRequested.Wait(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Commits <paramref name="offsets"/> and reports them; a failure that is not fatal is logged and returns false.</summary>
    private bool TryCommit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException error) when (!error.Error.IsFatal)
        {
            KafkaLog.CommitFailed(_logger, error, Name);
            return false;
        }

        foreach (var offset in offsets)
        {
            _committed[offset.TopicPartition] = offset.Offset.Value;
        }

        Committed?.Invoke(this, offsets);
        return true;
    }

    /// <summary>
    /// At most once, offsets are committed when messages are read, so messages read but never taken by the engine would
    /// be lost when the input stops or gives partitions up. Committing the offset of the first such message again
    /// (Kafka accepts a lower offset) hands them to the next reader instead; only runs already started can be lost.
    /// </summary>
    private void RewindUntaken(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        if (_delivery != KafkaDelivery.AtMostOnce)
        {
            return;
        }

        List<TopicPartitionOffset> offsets;
        lock (_bufferLock)
        {
            offsets = [.. partitions
                .Where(p => !p.IsRevoked && p.Buffer.Count > 0)
                .Select(p => new TopicPartitionOffset(p.TopicPartition, new Offset(p.Buffer.Peek().Position.Offset)))];
        }

        if (offsets.Count > 0)
        {
            TryCommit(consumer, offsets);
        }
    }

    /// <summary>
    /// At least once: everything from the oldest unfinished message to the newest read (what a crash would redeliver).
    /// At most once: what is read but not yet taken by the engine.
    /// </summary>
    private int Pending(PartitionState<T> partition) =>
        _delivery == KafkaDelivery.AtLeastOnce ? partition.Tracker.Buffered : partition.Buffer.Count + partition.Unpublished;

    private void ResumeDrained(IConsumer<byte[], byte[]> consumer)
    {
        var drained = _partitions.Values.Where(p => p.IsPaused && Pending(p) <= _maxPending / 2).ToList();
        if (drained.Count == 0)
        {
            return;
        }

        consumer.Resume(drained.Select(p => p.TopicPartition));
        foreach (var partition in drained)
        {
            partition.IsPaused = false;
            Interlocked.Decrement(ref _paused);
            KafkaLog.PartitionResumed(_logger, Name, Format(partition.TopicPartition), Pending(partition));
        }
    }

    /// <summary>Commits, for each partition, the offset below which every message is finished, if it moved.</summary>
    private void Commit(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        if (_delivery != KafkaDelivery.AtLeastOnce)
        {
            return;
        }

        var commits = new List<(PartitionState<T> Partition, long Offset)>();
        foreach (var partition in partitions)
        {
            if (!partition.IsRevoked && partition.Tracker.CommittableOffset is { } offset && offset > partition.LastCommitted)
            {
                commits.Add((partition, offset));
            }
        }

        if (commits.Count == 0)
        {
            return;
        }

        if (TryCommit(consumer, commits.ConvertAll(c => new TopicPartitionOffset(c.Partition.TopicPartition, new Offset(c.Offset)))))
        {
            foreach (var (partition, offset) in commits)
            {
                partition.LastCommitted = offset;
            }
        }
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        foreach (var topicPartition in partitions)
        {
            _partitions[topicPartition] = new PartitionState<T>(topicPartition, this);
        }

        Volatile.Write(ref _assigned, _partitions.Count);
        KafkaLog.PartitionsAssigned(_logger, Name, GroupId!, partitions.Count, string.Join(", ", partitions.Select(Format)));
        _options.PartitionsAssigned?.Invoke(partitions);
    }

    private void OnRevoked(List<TopicPartitionOffset> partitions)
    {
        var states = partitions.Select(p => _partitions.GetValueOrDefault(p.TopicPartition)).OfType<PartitionState<T>>().ToList();
        RewindUntaken(_consumer!, states);
        var revoked = TakeOver(partitions.Select(p => p.TopicPartition));
        if (_delivery == KafkaDelivery.AtLeastOnce)
        {
            if (!_stopping)
            {
                WaitForHandedOut(revoked);
            }

            Commit(_consumer!, revoked);
        }

        var abandoned = Release(revoked);
        KafkaLog.PartitionsRevoked(_logger, Name, revoked.Count, abandoned, string.Join(", ", revoked.Select(p => Format(p.TopicPartition))));
        _options.PartitionsRevoked?.Invoke([.. partitions.Select(p => p.TopicPartition)]);
    }

    private void OnLost(List<TopicPartitionOffset> partitions)
    {
        var lost = TakeOver(partitions.Select(p => p.TopicPartition));
        Release(lost);
        KafkaLog.PartitionsLost(_logger, Name, lost.Count, string.Join(", ", lost.Select(p => Format(p.TopicPartition))));
        _options.PartitionsRevoked?.Invoke([.. partitions.Select(p => p.TopicPartition)]);
    }

    /// <summary>Stops handing out the buffered messages of partitions that are going away.</summary>
    private List<PartitionState<T>> TakeOver(IEnumerable<TopicPartition> topicPartitions)
    {
        var states = topicPartitions.Select(tp => _partitions.GetValueOrDefault(tp)).OfType<PartitionState<T>>().ToList();
        lock (_bufferLock)
        {
            foreach (var state in states)
            {
                state.Buffer.Clear(); // never handed out: the next owner reads them again from the committed offset
            }
        }

        return states;
    }

    /// <summary>Forgets partitions; acknowledgements of their runs are ignored from now on. Returns the runs still in flight.</summary>
    private int Release(List<PartitionState<T>> states)
    {
        var inFlight = 0;
        foreach (var state in states)
        {
            state.Revoke();
            inFlight += Math.Max(0, state.HandedOut);
            if (state.IsPaused)
            {
                Interlocked.Decrement(ref _paused);
            }

            _partitions.Remove(state.TopicPartition);
        }

        Volatile.Write(ref _assigned, _partitions.Count);
        return inFlight;
    }

    private void WaitForHandedOut(List<PartitionState<T>> states)
    {
        var time = _context.TimeProvider;
        var started = time.GetTimestamp();
        _revocationWaiting = true;
        try
        {
            while (true)
            {
                _acknowledged.Reset();
                var inFlight = states.Sum(s => Math.Max(0, s.HandedOut));
                if (inFlight == 0)
                {
                    return;
                }

                var remaining = _revocationTimeout - time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    KafkaLog.RevocationTimedOut(_logger, Name, _revocationTimeout, inFlight);
                    return;
                }

                _acknowledged.Wait(remaining < s_idleConsumeTimeout ? remaining : s_idleConsumeTimeout);
            }
        }
        finally
        {
            _revocationWaiting = false;
        }
    }

    private long ToTimestampTicks(TimeSpan span) => (long)(span.TotalSeconds * _context.TimeProvider.TimestampFrequency);

    private static string FormatOffsets(IEnumerable<KeyValuePair<TopicPartition, long>> offsets) =>
        string.Join(", ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition.Value)
            .Select(o => string.Create(CultureInfo.InvariantCulture, $"{Format(o.Key)}={o.Value}")));

    /// <summary>Formats a partition as <c>topic[partition]</c> (Confluent's own format is <c>topic [[partition]]</c>).</summary>
    private static string Format(TopicPartition partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{partition.Topic}[{partition.Partition.Value}]");
}
