using System.Collections.Concurrent;

namespace Meshinery;

/// <summary>
/// An in-memory output that keeps every item written to it, for tests, samples and the embedded default.
/// <see cref="WaitForCountAsync"/> waits (with the caller's deadline) until enough items have arrived.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class InMemoryOutput<T> : OutputSink<T>
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly Lock _waitersLock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
    private int _count;
    private int _waiterCount; // read without the lock so that writes skip it when nobody waits

    /// <summary>Creates the output.</summary>
    /// <param name="name">The output's name. Default: <c>memory</c>.</param>
    public InMemoryOutput(string name = "memory")
        : base(name)
    {
    }

    /// <summary>How many items have been written.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>A snapshot of the items written, in the order they were written.</summary>
    public IReadOnlyList<T> Items => [.. _items];

    /// <summary>Writes complete at once (they only take a short lock when someone waits for a count).</summary>
    /// <value>Always <see langword="true"/>.</value>
    public override bool IsNonBlocking => true;

    /// <inheritdoc/>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        _items.Enqueue(item);
        var count = Interlocked.Increment(ref _count);
        if (Volatile.Read(ref _waiterCount) == 0)
        {
            return default;
        }

        lock (_waitersLock)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= count)
                {
                    _waiters[i].Reached.TrySetResult();
                    _waiters.RemoveAt(i);
                    _waiterCount--;
                }
            }
        }

        return default;
    }

    /// <summary>Completes when at least <paramref name="count"/> items have been written.</summary>
    /// <param name="count">The number of items to wait for.</param>
    /// <param name="cancellationToken">Gives up waiting (use a token with a deadline).</param>
    /// <returns>A task that completes when the count is reached.</returns>
    public Task WaitForCountAsync(int count, CancellationToken cancellationToken = default)
    {
        lock (_waitersLock)
        {
            // Announce the waiter before reading the count (a full fence), as a write announces its item before reading
            // the waiter count: whichever comes second sees the other, so a write racing with this call is never missed.
            Interlocked.Increment(ref _waiterCount);
            if (Count >= count)
            {
                _waiterCount--;
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(cancellationToken);
        }
    }
}
