using System.Collections.Concurrent;

namespace Meshinery;

/// <summary>
/// Reuses <see cref="TaskRun"/> objects. It never holds more runs than were in flight at once: a run is only rented
/// while a slot is taken.
/// </summary>
internal sealed class RunPool(EngineEnvironment environment, RunQueue runLoop)
{
    private readonly ConcurrentQueue<TaskRun> _runs = new();

    public TaskRun Rent()
    {
        var run = _runs.TryDequeue(out var pooled) ? pooled : new TaskRun(environment, runLoop);
        run.TakeOver();
        return run;
    }

    public void Return(TaskRun run)
    {
        run.Clear();
        run.HandOff();
        _runs.Enqueue(run);
    }
}
