namespace Meshinery.TestSupport;

/// <summary>
/// Counts arrivals (for example, runs entering a step) and lets a test wait until a number of them arrived, and
/// measures the highest number present at once (<see cref="Enter"/> / <see cref="Leave"/>).
/// </summary>
public sealed class Arrivals
{
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _arrived;
    private int _present;
    private int _maxPresent;

    /// <summary>How many arrived so far.</summary>
    public int Count => Volatile.Read(ref _arrived);

    /// <summary>How many are present now (entered, not yet left).</summary>
    public int Present => Volatile.Read(ref _present);

    /// <summary>The most that were present at once.</summary>
    public int MaxPresent => Volatile.Read(ref _maxPresent);

    /// <summary>Counts one arrival.</summary>
    public void Arrive()
    {
        var count = Interlocked.Increment(ref _arrived);
        lock (_lock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= count)
                {
                    _waiters[i].Reached.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Counts one arrival and marks it present until <see cref="Leave"/>.</summary>
    public void Enter()
    {
        var present = Interlocked.Increment(ref _present);
        var max = Volatile.Read(ref _maxPresent);
        while (present > max)
        {
            var seen = Interlocked.CompareExchange(ref _maxPresent, present, max);
            if (seen == max)
            {
                break;
            }

            max = seen;
        }

        Arrive();
    }

    /// <summary>Marks one present arrival as gone.</summary>
    public void Leave() => Interlocked.Decrement(ref _present);

    /// <summary>Completes when at least <paramref name="count"/> have arrived; fails after the deadline.</summary>
    public Task WaitForAsync(int count, TimeSpan? deadline = null)
    {
        lock (_lock)
        {
            if (Count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.Within(() => $"{count} arrivals (got {Count})", deadline);
        }
    }
}
