namespace Meshinery;

/// <summary>One input of a task, as the poll loop sees it: a typed source with its poll buffer and backoff state.</summary>
internal abstract class InputBinding
{
    public abstract InputSource Source { get; }

    /// <summary>Whether the input is a priority lane: its items' runs are high priority.</summary>
    public bool IsHighPriority { get; init; }

    /// <summary>When a failing source may be polled again (a <see cref="TimeProvider"/> timestamp), or 0.</summary>
    public long RetryAfter { get; set; }

    public int ConsecutiveFailures { get; set; }

    /// <summary>Polls up to <paramref name="max"/> items and starts a run for each; returns how many.</summary>
    public abstract int Poll(int max, TaskRuntime task, RunStarter starter);
}

internal sealed class InputBinding<T>(InputSource<T> source) : InputBinding
{
    private const int MaxBatch = 1024;
    private SourceItem<T>[] _buffer = new SourceItem<T>[16];

    public override InputSource Source => source;

    public override int Poll(int max, TaskRuntime task, RunStarter starter)
    {
        max = Math.Min(max, MaxBatch);
        if (_buffer.Length < max)
        {
            _buffer = new SourceItem<T>[Math.Min(MaxBatch, Math.Max(max, _buffer.Length * 2))];
        }

        var batch = _buffer.AsSpan(0, max);
        var count = source.Poll(batch);
        if (count < 0 || count > max)
        {
            throw new InvalidOperationException($"Source '{source.Name}' returned {count} from Poll for a buffer of {max}.");
        }

        for (var i = 0; i < count; i++)
        {
            starter.StartRun(task, in batch[i], IsHighPriority);
        }

        batch[..count].Clear(); // drop references to items now owned by their runs
        return count;
    }
}
