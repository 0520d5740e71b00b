namespace Meshinery;

/// <summary>
/// Counts the runs in flight, per task and across the engine, from the poll that reads an item to its acknowledgement.
/// A finishing run wakes the poll loop when a full task or engine has room for a batch again (the refill threshold),
/// or when nothing is in flight any more (batch mode and stopping wait for that).
/// </summary>
internal sealed class InFlightLimits(int maxInFlight, LoopSignal pollLoop)
{
    private readonly int _refillThreshold = Math.Max(1, maxInFlight / 16);
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int FreeSlots => maxInFlight - Volatile.Read(ref _inFlight);

    /// <summary>Takes a slot of the task and of the engine (any thread).</summary>
    public void Take(TaskRuntime task)
    {
        Interlocked.Increment(ref task.InFlight);
        Interlocked.Increment(ref _inFlight);
    }

    /// <summary>Frees the slots a finished run held (run loop thread).</summary>
    public void Release(TaskRuntime task)
    {
        var taskInFlight = Interlocked.Decrement(ref task.InFlight);
        var inFlight = Interlocked.Decrement(ref _inFlight);
        if (taskInFlight == task.Definition.MaxInFlight - task.RefillThreshold ||
            inFlight == maxInFlight - _refillThreshold ||
            inFlight == 0)
        {
            pollLoop.Set();
        }

        if (inFlight == 0)
        {
            Volatile.Read(ref _drained).TrySetResult();
        }
    }

    /// <summary>A task that completes the next time nothing is in flight.</summary>
    public Task WhenDrained()
    {
        var drained = Volatile.Read(ref _drained);
        if (drained.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _drained, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), drained);
            drained = Volatile.Read(ref _drained);
        }

        // Runs may have ended between the read above and now.
        if (InFlight == 0)
        {
            drained.TrySetResult();
        }

        return drained.Task;
    }
}
