using System.Diagnostics;

namespace Meshinery;

/// <summary>
/// Starts runs: takes the slots, rents a <see cref="TaskRun"/>, builds its execution context (so that
/// <see cref="TaskRunContext.Current"/>, the log scope and the trace activity travel with it across every thread hop)
/// and hands it to the run loop (an unordered run straight to its worker pool, see <see cref="DirectDispatch"/>). Called on the poll loop thread, or by the caller of an inject.
/// </summary>
internal sealed class RunStarter(EngineEnvironment environment, RunPool runs, InFlightLimits limits, RunQueue runLoop)
{
    private long _nextRunId;

    public void StartRun<T>(
        TaskRuntime task,
        in SourceItem<T> item,
        bool fromPriorityInput = false,
        TaskCompletionSource<RunResult>? injectCompletion = null)
    {
        var context = new TaskRunContext(
            task.Definition.Data, Interlocked.Increment(ref _nextRunId), item.Position, item.SourceRecord, environment.RunsCancellation, item.Key);
        var run = runs.Rent();
        run.Initialize(task, context, item.Value, item.Acknowledger, injectCompletion);
        if (item.ReadError is { } readError)
        {
            run.Fault(readError, task.ReadStep);
        }
        else
        {
            // The key first: a run whose priority selector fails keeps its key, so a replacement from the error handler
            // still runs in its key's order.
            if (injectCompletion is null)
            {
                task.Ordering.AssignKey(run); // injected runs are not ordered
            }

            if (run.Phase != RunPhase.Faulted)
            {
                task.Priority.Assign(run, fromPriorityInput);
            }
        }

        limits.Take(task);
        Interlocked.Increment(ref task.Started);
        environment.Diagnostics.RunsStarted.Add(1, task.MetricTag);
        environment.Diagnostics.InFlight.Add(1, task.MetricTag);

        run.ParentActivity = item.ParentActivityContext;
        BuildExecutionContext(run);
        if (!DirectDispatch.TryStart(run))
        {
            run.HandOff();
            runLoop.Enqueue(run);
        }
    }

    /// <summary>
    /// Builds the run's execution context: the caller's context (the poll loop's is empty) plus the ambient run
    /// context, the run's log scope and its activity. It is built inside <see cref="ExecutionContext.Run"/>, which
    /// restores the calling thread's context afterwards, so nothing has to be undone by hand.
    /// </summary>
    private static void BuildExecutionContext(TaskRun run)
    {
        // Flow is never suppressed here: the loops start with UnsafeStart and InjectAsync hops off a suppressed flow.
        var baseline = ExecutionContext.Capture() ?? throw new InvalidOperationException("Execution context flow is suppressed.");
        ExecutionContext.Run(baseline, s_buildExecutionContext, run);
    }

    private static readonly ContextCallback s_buildExecutionContext = static state =>
    {
        var run = (TaskRun)state!;
        TaskRunContext.SetCurrent(run.Context);
        _ = run.Environment.RunLogger.BeginScope(run.Context.LogScope); // ends with the context: nothing else holds the scope
        run.Activity = MeshineryDiagnostics.StartRunActivity(run, run.ParentActivity);
        run.ExecutionContext = ExecutionContext.Capture();
    };
}
