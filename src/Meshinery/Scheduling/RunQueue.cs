using System.Collections.Concurrent;

namespace Meshinery;

/// <summary>
/// The run loop's inbox: where a run goes when it needs the run loop's decision (it started, ended a step's work,
/// failed or finished). Any thread enqueues; only the run loop dequeues, woken by <see cref="Signal"/>.
/// </summary>
internal sealed class RunQueue
{
    private readonly ConcurrentQueue<TaskRun> _ready = new();

    public LoopSignal Signal { get; } = new();

    /// <summary>Hands the run to the run loop; the caller must not touch it afterwards.</summary>
    public void Enqueue(TaskRun run)
    {
        _ready.Enqueue(run);
        Signal.Set();
    }

    /// <summary>Takes the next run (run loop thread; the run loop disposes the signal).</summary>
    public bool TryDequeue([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out TaskRun run) => _ready.TryDequeue(out run);
}
