namespace Meshinery.TestSupport;

/// <summary>
/// An input source for tests that records everything the engine does with it: every poll (and the buffer size it
/// asked for), every acknowledgement per position (flagging duplicates and unknown positions), and, when
/// <see cref="Bound"/> is set, every poll that asked for more items than the free in-flight slots.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// Items get offsets 0, 1, 2… in the order they are added. The engine acknowledges an item before it frees the item's
/// in-flight slot, so "handed out and not yet acknowledged" never exceeds the engine's own in-flight count: a poll
/// asking for more than <c>Bound - Outstanding</c> is a real violation.
/// </remarks>
public sealed class ScriptedInput<T> : InputSource<T>, IAcknowledger
{
    private readonly Lock _lock = new();
    private readonly Queue<SourceItem<T>> _pending = new();
    private readonly HashSet<SourcePosition> _handedOutPositions = [];
    private readonly Dictionary<SourcePosition, int> _ackCounts = [];
    private readonly Dictionary<SourcePosition, RunOutcome> _outcomes = [];
    private readonly List<SourcePosition> _duplicates = [];
    private readonly List<SourcePosition> _unknown = [];
    private readonly List<int> _requestedSizes = [];
    private readonly List<string> _violations = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _ackWaiters = [];
    private readonly TaskCompletionSource _polled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SourceContext? _context;
    private long _nextOffset;
    private int _pollCalls;
    private int _handedOut;
    private int _acknowledged;
    private int _maxOutstanding;
    private bool _completed;

    /// <summary>Creates the input.</summary>
    /// <param name="name">The source name (in positions).</param>
    /// <param name="partition">The partition of every item.</param>
    public ScriptedInput(string name = "scripted", int partition = 0)
        : base(name)
    {
        Partition = partition;
    }

    /// <summary>The partition of every item.</summary>
    public int Partition { get; }

    /// <summary>When set, polls asking for more than <c>Bound - Outstanding</c> items are recorded in <see cref="Violations"/>.</summary>
    public int? Bound { get; set; }

    /// <summary>Given the 1-based number of a poll, returns an exception for the poll to throw, or <see langword="null"/>.</summary>
    public Func<int, Exception?>? PollFault { get; set; }

    /// <summary>
    /// Whether adding items (or completing) tells the engine that items are available; <see langword="false"/> models a
    /// source that cannot signal, which the engine only reads when it polls by itself. Default: <see langword="true"/>.
    /// </summary>
    public bool Signals { get; set; } = true;

    /// <summary>Called on every acknowledgement, before it is recorded (to check what holds at that moment).</summary>
    public Action<SourcePosition, RunOutcome>? OnAcknowledge { get; set; }

    /// <summary>The context the engine started the source with.</summary>
    public SourceContext? Context => _context;

    /// <summary>How many times StartAsync was called.</summary>
    public int StartCount { get; private set; }

    /// <summary>How many times StopAsync was called.</summary>
    public int StopCount { get; private set; }

    /// <summary>How many items were acknowledged when StopAsync was called (the engine stops sources last).</summary>
    public int AcknowledgedAtStop { get; private set; } = -1;

    /// <summary>Completes after the first poll.</summary>
    public Task FirstPoll => _polled.Task;

    /// <summary>How many times the engine polled.</summary>
    public int PollCalls
    {
        get
        {
            lock (_lock)
            {
                return _pollCalls;
            }
        }
    }

    /// <summary>The buffer size of every poll, in order.</summary>
    public IReadOnlyList<int> RequestedSizes
    {
        get
        {
            lock (_lock)
            {
                return [.. _requestedSizes];
            }
        }
    }

    /// <summary>Polls that asked for more than the free slots, described.</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Positions acknowledged more than once (each repeat listed).</summary>
    public IReadOnlyList<SourcePosition> Duplicates
    {
        get
        {
            lock (_lock)
            {
                return [.. _duplicates];
            }
        }
    }

    /// <summary>Acknowledged positions that were never handed out.</summary>
    public IReadOnlyList<SourcePosition> Unknown
    {
        get
        {
            lock (_lock)
            {
                return [.. _unknown];
            }
        }
    }

    /// <summary>The (last) outcome per acknowledged position.</summary>
    public IReadOnlyDictionary<SourcePosition, RunOutcome> Outcomes
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<SourcePosition, RunOutcome>(_outcomes);
            }
        }
    }

    /// <summary>Items handed to the engine.</summary>
    public int HandedOut
    {
        get
        {
            lock (_lock)
            {
                return _handedOut;
            }
        }
    }

    /// <summary>Acknowledgements received (duplicates included).</summary>
    public int Acknowledged
    {
        get
        {
            lock (_lock)
            {
                return _acknowledged;
            }
        }
    }

    /// <summary>The most items that were handed out and not yet acknowledged at once.</summary>
    public int MaxOutstanding
    {
        get
        {
            lock (_lock)
            {
                return _maxOutstanding;
            }
        }
    }

    /// <summary>Items added but not yet handed out.</summary>
    public int Backlog
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <inheritdoc/>
    public override bool IsDrained
    {
        get
        {
            lock (_lock)
            {
                return _completed && _pending.Count == 0;
            }
        }
    }

    /// <summary>The position the item added next will have.</summary>
    public SourcePosition NextPosition
    {
        get
        {
            lock (_lock)
            {
                return new SourcePosition(Name, Partition, _nextOffset);
            }
        }
    }

    /// <summary>Adds items (offsets follow the order) and wakes the engine.</summary>
    public ScriptedInput<T> Add(params IEnumerable<T> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        lock (_lock)
        {
            foreach (var item in items)
            {
                _pending.Enqueue(new SourceItem<T>(item, new SourcePosition(Name, Partition, _nextOffset++), this, sourceRecord: $"raw-{item}"));
            }
        }

        Notify();
        return this;
    }

    /// <summary>Adds an item with a source key (<see cref="SourceItem{T}.Key"/>) and wakes the engine.</summary>
    public ScriptedInput<T> AddKeyed(T item, object? key)
    {
        lock (_lock)
        {
            _pending.Enqueue(new SourceItem<T>(item, new SourcePosition(Name, Partition, _nextOffset++), this, sourceRecord: $"raw-{item}") { Key = key });
        }

        Notify();
        return this;
    }

    /// <summary>Adds an item that could not be read.</summary>
    public ScriptedInput<T> AddUnreadable(Exception error, object? raw = null)
    {
        lock (_lock)
        {
            _pending.Enqueue(SourceItem.Unreadable<T>(error, new SourcePosition(Name, Partition, _nextOffset++), this, raw));
        }

        Notify();
        return this;
    }

    /// <summary>Declares that no more items will be added (batch mode then stops once everything is processed).</summary>
    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }

        Notify();
    }

    private void Notify()
    {
        if (Signals)
        {
            _context?.NotifyItemsAvailable();
        }
    }

    /// <summary>Completes when at least <paramref name="count"/> acknowledgements arrived; fails after the deadline.</summary>
    public Task WaitForAcknowledgementsAsync(int count, TimeSpan? deadline = null)
    {
        lock (_lock)
        {
            if (_acknowledged >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _ackWaiters.Add((count, reached));
            return reached.Task.Within(() => $"{count} acknowledgements from '{Name}' (got {Acknowledged})", deadline);
        }
    }

    /// <summary>The outcome of the item at <paramref name="offset"/>, or <see langword="null"/> when not acknowledged.</summary>
    public RunOutcome? OutcomeAt(long offset) =>
        Outcomes.TryGetValue(new SourcePosition(Name, Partition, offset), out var outcome) ? outcome : null;

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        _context = context;
        StartCount++;
        return default;
    }

    /// <inheritdoc/>
    public override ValueTask StopAsync(CancellationToken cancellationToken)
    {
        StopCount++;
        AcknowledgedAtStop = Acknowledged;
        return default;
    }

    /// <inheritdoc/>
    public override int Poll(Span<SourceItem<T>> buffer)
    {
        int pollNumber;
        lock (_lock)
        {
            pollNumber = ++_pollCalls;
            _requestedSizes.Add(buffer.Length);
            var outstanding = _handedOut - _acknowledged;
            if (Bound is { } bound && buffer.Length > bound - outstanding)
            {
                _violations.Add($"poll {pollNumber} asked for {buffer.Length} items with {outstanding} of {bound} in flight");
            }
        }

        _polled.TrySetResult();
        if (PollFault?.Invoke(pollNumber) is { } fault)
        {
            throw fault;
        }

        lock (_lock)
        {
            var count = 0;
            while (count < buffer.Length && _pending.TryDequeue(out var item))
            {
                buffer[count++] = item;
                _handedOutPositions.Add(item.Position);
            }

            _handedOut += count;
            _maxOutstanding = Math.Max(_maxOutstanding, _handedOut - _acknowledged);
            return count;
        }
    }

    /// <inheritdoc/>
    public void Acknowledge(SourcePosition position, RunOutcome outcome)
    {
        OnAcknowledge?.Invoke(position, outcome);
        lock (_lock)
        {
            _acknowledged++;
            if (!_handedOutPositions.Contains(position))
            {
                _unknown.Add(position);
            }

            var count = _ackCounts.GetValueOrDefault(position) + 1;
            _ackCounts[position] = count;
            if (count > 1)
            {
                _duplicates.Add(position);
            }

            _outcomes[position] = outcome;
            for (var i = _ackWaiters.Count - 1; i >= 0; i--)
            {
                if (_ackWaiters[i].Count <= _acknowledged)
                {
                    _ackWaiters[i].Reached.TrySetResult();
                    _ackWaiters.RemoveAt(i);
                }
            }
        }
    }
}
