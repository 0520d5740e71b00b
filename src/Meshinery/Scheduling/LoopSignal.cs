namespace Meshinery;

/// <summary>
/// Wakes a dedicated loop thread. Many threads may <see cref="Set"/>; one thread <see cref="Wait()"/>s. At most one
/// wake-up is outstanding, so a busy producer costs one compare-exchange per call and the loop never spins.
/// </summary>
internal sealed class LoopSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0);
    private int _pending;

    public void Set()
    {
        // A full fence between the caller's enqueue and the read of the flag (and one in Wait between the reset and
        // the loop's look at its queue): with acquire/release alone, the store→load pairs on both sides may reorder
        // and each side miss the other, leaving work queued with the loop asleep.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _pending) == 0 && Interlocked.CompareExchange(ref _pending, 1, 0) == 0)
        {
            try
            {
                _semaphore.Release();
            }
            catch (ObjectDisposedException)
            {
                // The engine was disposed and the loop is gone, but late callers are expected: a step that ignored
                // cancellation past the grace period hands its run back when it finally returns (on a worker or a
                // thread-pool thread, where an exception would end the process), and sources may still announce items.
                // Nothing waits any more, so there is nothing to wake.
            }
        }
    }

    /// <summary>
    /// Blocks until <see cref="Set"/> has been called since the last wait returned. The caller must look at its work
    /// after this returns: the flag is cleared first, so a Set racing with that look is never lost.
    /// </summary>
    public void Wait()
    {
        _semaphore.Wait();
        Interlocked.Exchange(ref _pending, 0);
    }

    /// <summary>
    /// Like <see cref="Wait()"/>, but returns after <paramref name="timeout"/> at the latest. A <see cref="Set"/> that
    /// races with the timeout leaves the semaphore released: the next wait then returns at once, a spurious wake-up
    /// the loop handles like any other (it looks at its work and finds none).
    /// </summary>
    public void Wait(TimeSpan timeout)
    {
        _semaphore.Wait(timeout);
        Interlocked.Exchange(ref _pending, 0);
    }

    public void Dispose() => _semaphore.Dispose();
}
