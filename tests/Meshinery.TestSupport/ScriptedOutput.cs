using System.Collections.Concurrent;

namespace Meshinery.TestSupport;

/// <summary>
/// An output sink for tests: records every write attempt and every successful write, can fail writes on a script,
/// and can complete writes asynchronously (as a real broker would).
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class ScriptedOutput<T> : OutputSink<T>
    where T : notnull
{
    private readonly ConcurrentQueue<T> _items = new();
    private readonly ConcurrentDictionary<T, int> _attemptsPerItem;
    private readonly Arrivals _writes = new();
    private int _attempts;
    private int _startCount;
    private int _stopCount;

    /// <summary>Creates the output.</summary>
    /// <param name="name">The sink's name.</param>
    /// <param name="comparer">Compares items (to count attempts per item).</param>
    public ScriptedOutput(string name = "scripted-out", IEqualityComparer<T>? comparer = null)
        : base(name)
    {
        _attemptsPerItem = new ConcurrentDictionary<T, int>(comparer ?? EqualityComparer<T>.Default);
    }

    /// <summary>Given the item and the 1-based attempt for it, returns an exception for the write to throw, or <see langword="null"/>.</summary>
    public Func<T, int, Exception?>? Fault { get; set; }

    /// <summary>What <see cref="OutputSink.IsTransient"/> answers. Default: every failure is transient.</summary>
    public Func<Exception, bool> Transient { get; set; } = static _ => true;

    /// <summary>When set, writes yield before completing (so the engine awaits them).</summary>
    public bool CompleteAsynchronously { get; set; }

    /// <summary>The items written successfully, in order.</summary>
    public IReadOnlyList<T> Items => [.. _items];

    /// <summary>How many writes succeeded.</summary>
    public int Count => _writes.Count;

    /// <summary>How many writes were attempted (failed ones included).</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>How many times StartAsync was called.</summary>
    public int StartCount => Volatile.Read(ref _startCount);

    /// <summary>How many times StopAsync was called.</summary>
    public int StopCount => Volatile.Read(ref _stopCount);

    /// <summary>Completes when at least <paramref name="count"/> writes succeeded; fails after the deadline.</summary>
    public Task WaitForCountAsync(int count, TimeSpan? deadline = null) => _writes.WaitForAsync(count, deadline);

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _startCount);
        return default;
    }

    /// <inheritdoc/>
    public override ValueTask StopAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _stopCount);
        return default;
    }

    /// <inheritdoc/>
    public override bool IsTransient(Exception exception) => Transient(exception);

    /// <inheritdoc/>
    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken) =>
        CompleteAsynchronously ? WriteLaterAsync(item) : Write(item);

    private async ValueTask WriteLaterAsync(T item)
    {
        await Task.Yield();
        await Write(item).ConfigureAwait(false);
    }

    private ValueTask Write(T item)
    {
        Interlocked.Increment(ref _attempts);
        var attempt = _attemptsPerItem.AddOrUpdate(item, 1, static (_, n) => n + 1);
        if (Fault?.Invoke(item, attempt) is { } fault)
        {
            return ValueTask.FromException(fault);
        }

        _items.Enqueue(item);
        _writes.Arrive();
        return default;
    }
}
