namespace Meshinery;

/// <summary>
/// Orders runs by key: a run starts only when no earlier run with the same key is still in flight; the others wait in a
/// queue of their key, in the order they were read. Only keys with a run in flight are kept, so the queues are bounded
/// by the task's in-flight limit however many keys there are. A slow or retrying run holds back its own key only.
/// </summary>
internal sealed class KeyOrderingPolicy(Func<TaskRun, object?> selectKey, Step keyFailureStep, string taskName) : OrderingPolicy
{
    // Run loop thread only. A key maps to the runs waiting behind its running one (null while none waits).
    private readonly Dictionary<object, Queue<TaskRun>?> _active = new(OrderingKeyComparer.Instance);
    private readonly Stack<Queue<TaskRun>> _spareQueues = new();
    private int _waiting; // written on the run loop thread, read anywhere

    /// <summary>Runs waiting behind an earlier run of their key.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public override void AssignKey(TaskRun run)
    {
        try
        {
            run.OrderKey = selectKey(run) ?? throw new InvalidOperationException(
                $"the ordering key selector of task '{taskName}' (OrderByKey) returned null");
        }
        catch (Exception error)
        {
            run.Fault(error, keyFailureStep);
        }
    }

    public override bool TryAdmit(TaskRun run)
    {
        run.Environment.RunLoopThread.Assert();
        if (run.OrderKey is not { } key)
        {
            return true; // a run that failed before its first step has no key: nothing to keep in order
        }

        if (!_active.TryGetValue(key, out var waiting))
        {
            _active.Add(key, null);
            return true;
        }

        if (waiting is null)
        {
            waiting = _spareQueues.TryPop(out var spare) ? spare : new Queue<TaskRun>();
            _active[key] = waiting;
        }

        waiting.Enqueue(run);
        Volatile.Write(ref _waiting, _waiting + 1);
        return false;
    }

    public override TaskRun? Release(TaskRun run)
    {
        run.Environment.RunLoopThread.Assert();
        if (run.OrderKey is not { } key || !_active.TryGetValue(key, out var waiting))
        {
            return null;
        }

        if (waiting is null)
        {
            _active.Remove(key);
            return null;
        }

        var next = waiting.Dequeue();
        Volatile.Write(ref _waiting, _waiting - 1);
        if (waiting.Count == 0)
        {
            _active[key] = null;
            _spareQueues.Push(waiting);
        }

        return next;
    }
}

/// <summary>Compares ordering keys: byte arrays (Kafka keys) by content, everything else with its own equality.</summary>
internal sealed class OrderingKeyComparer : IEqualityComparer<object>
{
    public static OrderingKeyComparer Instance { get; } = new();

    public new bool Equals(object? x, object? y) =>
        x is byte[] a && y is byte[] b ? a.AsSpan().SequenceEqual(b) : object.Equals(x, y);

    public int GetHashCode(object obj)
    {
        if (obj is byte[] bytes)
        {
            var hash = new HashCode();
            hash.AddBytes(bytes);
            return hash.ToHashCode();
        }

        return obj.GetHashCode();
    }
}
