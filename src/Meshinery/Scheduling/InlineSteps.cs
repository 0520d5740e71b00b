namespace Meshinery;

/// <summary>
/// The one place that decides whether the thread that completed a run's await executes the run's next steps itself
/// instead of queueing them on a worker. Queueing costs a thread hand-off (a wake-up, tens of µs of CPU) for work
/// that takes a few µs, such as the engine's write to a Kafka producer after an async step.
/// <para>
/// Only steps that declare <see cref="Step.RunsInline"/> run here: steps that never block and run no user code that
/// might (the write to an <see cref="OutputSink.IsNonBlocking"/> sink). Everything else still goes to the worker
/// pools, so blocking work never lands on the .NET thread pool. The run's guarantees hold as on a worker: the step
/// runs inside the run's own execution context; the run's in-flight slot is held until the run loop ends it; an
/// ordered run keeps its key (it is admitted already); failures, retries and the end still go to the run loop.
/// </para>
/// </summary>
internal static class InlineSteps
{
    // Set while this thread executes a step inline: an await that completes synchronously inside it (another run's
    // continuation) queues its next step instead of nesting a second run's steps in this one's stack.
    [ThreadStatic]
    private static bool t_running;

    /// <summary>
    /// Executes the run's next steps on the calling thread while each runs inline and completes at once; stops at the
    /// first that leaves a pending task (the caller registers its continuation), fails, ends the run, or must go to a
    /// worker. Called by the thread that completed the run's await, which still owns the run afterwards; returns
    /// whether it executed a step. Only a .NET thread-pool thread that is not executing a step inline already runs
    /// them: the poll loop, the run loop and the workers are not thread-pool threads, so a continuation that completes
    /// there (an await completed inside another run's step, an acknowledgement that completed a task) queues the step
    /// on a worker as before.
    /// </summary>
    public static bool TryRun(TaskRun run)
    {
        if (t_running || !Thread.CurrentThread.IsThreadPoolThread || !NextStepRunsInline(run))
        {
            return false;
        }

        t_running = true;
        try
        {
            do
            {
                run.ExecuteStepInline();
            }
            while (NextStepRunsInline(run));
        }
        finally
        {
            t_running = false;
        }

        return true;
    }

    /// <summary>
    /// Whether the run's next step may run inline: the run has one ready (no failure, no pending task, not at the
    /// end), is admitted and not given up on; the step declares <see cref="Step.RunsInline"/> and is not under a step
    /// rate limit (the limiter decides where a limited step runs).
    /// </summary>
    private static bool NextStepRunsInline(TaskRun run) =>
        run.Phase == RunPhase.Step && !run.IsAtEnd && !run.IsPending && run.IsAdmitted &&
        run.ActiveStep is { RunsInline: true } step &&
        !(step.IsProcessor && run.Task.StepRate is not null) &&
        !run.Environment.RunsCancellation.IsCancellationRequested;
}
