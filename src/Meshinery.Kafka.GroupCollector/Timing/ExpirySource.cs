namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The groups' deadlines on the engine's clock (time-to-live, the wait for a late create, the retention of resolved
/// groups, a result to write again). When one passes, the source hands out a tick for the group; the collector writes
/// it to the internal topic keyed by group id, so it is applied by the group's owner in line with the group's other
/// events, and a partition that moves takes its pending ticks' effect along (the new owner schedules its own from the
/// restored state).
/// </summary>
internal sealed class ExpirySource : InputSource<GroupTick>, IDisposable
{
    private readonly Lock _lock = new();
    private readonly SortedSet<(DateTimeOffset Deadline, string GroupId)> _queue = new();
    private readonly Dictionary<string, DateTimeOffset> _deadlines = new(StringComparer.Ordinal);
    private readonly Action<SourceContext> _onStart;
    private SourceContext? _context;
    private ITimer? _timer;
    private DateTimeOffset _armedFor = DateTimeOffset.MaxValue;
    private long _sequence;

    public ExpirySource(string name, Action<SourceContext> onStart)
        : base(name)
    {
        _onStart = onStart;
    }

    /// <summary>Deadlines waiting (one per group at most).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _queue.Count;
            }
        }
    }

    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _onStart(context);
        lock (_lock)
        {
            _context = context;
            _timer = context.TimeProvider.CreateTimer(_ => context.NotifyItemsAvailable(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            ArmLocked();
        }

        return default;
    }

    /// <summary>Sets (or moves) the group's deadline.</summary>
    public void Set(string groupId, DateTimeOffset deadline)
    {
        lock (_lock)
        {
            if (_deadlines.Remove(groupId, out var previous))
            {
                _queue.Remove((previous, groupId));
            }

            _deadlines[groupId] = deadline;
            _queue.Add((deadline, groupId));
            if (deadline < _armedFor)
            {
                ArmLocked();
            }
        }
    }

    /// <summary>The group needs no tick any more (forgotten, or its partition went to another instance).</summary>
    public void Remove(string groupId)
    {
        lock (_lock)
        {
            if (_deadlines.Remove(groupId, out var previous))
            {
                _queue.Remove((previous, groupId));
            }
        }
    }

    public override int Poll(Span<SourceItem<GroupTick>> buffer)
    {
        lock (_lock)
        {
            if (_context is null)
            {
                return 0;
            }

            var now = _context.TimeProvider.GetUtcNow();
            var count = 0;
            while (count < buffer.Length && _queue.Count > 0 && _queue.Min.Deadline <= now)
            {
                var (_, groupId) = _queue.Min;
                _queue.Remove(_queue.Min);
                _deadlines.Remove(groupId);
                buffer[count++] = new SourceItem<GroupTick>(new GroupTick(groupId), new SourcePosition(Name, 0, ++_sequence));
            }

            ArmLocked();
            return count;
        }
    }

    public override ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return default;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>Wakes the poll loop when the earliest deadline passes (the idle poll would find it too, later).</summary>
    private void ArmLocked()
    {
        if (_timer is null || _context is null)
        {
            return;
        }

        if (_queue.Count == 0)
        {
            _armedFor = DateTimeOffset.MaxValue;
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        _armedFor = _queue.Min.Deadline;
        var due = _armedFor - _context.TimeProvider.GetUtcNow();
        _timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }
}
