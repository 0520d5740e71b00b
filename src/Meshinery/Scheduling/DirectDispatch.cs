namespace Meshinery;

/// <summary>
/// The two places where the run loop's decision about a run is known in advance, so the run goes straight to its
/// worker pool instead of through the run loop (each skipped hop saves a queue pass and, on a quiet loop, a thread
/// wake-up per message). Everything else (admission by key, failures, retries, the end of a run) still goes through
/// the run loop. The in-flight slots are taken before a run starts and freed only when the run loop ends it, so
/// back-pressure is unchanged; the worker still executes each step inside the run's own execution context.
/// </summary>
internal static class DirectDispatch
{
    /// <summary>
    /// A fresh run of an unordered task whose first step is ready: the run loop would admit it (nothing to wait for)
    /// and send it to the pool. Ordered runs must pass the ordering policy on the run loop thread, so they never take
    /// this path. Returns whether the run was handed on (the caller must not touch it then).
    /// </summary>
    public static bool TryStart(TaskRun run)
    {
        if (run.Phase != RunPhase.Step || run.IsAtEnd || !ReferenceEquals(run.Task.Ordering, OrderingPolicy.Unordered) ||
            run.Environment.RunsCancellation.IsCancellationRequested)
        {
            return false;
        }

        run.IsAdmitted = true;
        run.HandOff();
        run.Task.Dispatch(run, resumed: false);
        return true;
    }

    /// <summary>
    /// A run whose pending step completed and that has a next step to execute: it is admitted already (an ordered run
    /// holds its key until it ends), so the run loop would send it to the pool as a resumed run. Called on the thread
    /// that completed the pending task, which runs no user code here: it only queues the run (a next step that never
    /// blocks it executes itself instead, see <see cref="InlineSteps"/>). Returns whether the run was handed on (the
    /// caller must not touch it then).
    /// </summary>
    public static bool TryResume(TaskRun run)
    {
        if (run.Phase != RunPhase.Step || run.IsAtEnd || !run.IsAdmitted || run.Environment.RunsCancellation.IsCancellationRequested)
        {
            return false;
        }

        run.HandOff();
        run.Task.Dispatch(run, resumed: true);
        return true;
    }
}
