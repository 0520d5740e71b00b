using System.Diagnostics;

namespace Meshinery;

/// <summary>
/// Ends runs (run loop thread): counts the outcome, stops the activity, acknowledges the item, completes an inject,
/// returns the run to the pool and frees its slots. Counting comes first, so that whoever reacts to an
/// acknowledgement already sees it in the statistics.
/// </summary>
internal sealed class RunFinisher(EngineEnvironment environment, RunPool runs, InFlightLimits limits)
{
    public void Finish(TaskRun run)
    {
        environment.RunLoopThread.Assert();
        var task = run.Task;
        var diagnostics = environment.Diagnostics;
        diagnostics.InFlight.Add(-1, task.MetricTag);
        switch (run.Outcome)
        {
            case RunOutcome.Completed:
                diagnostics.RunsCompleted.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Completed);
                break;
            case RunOutcome.Dropped:
                diagnostics.RunsDropped.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Dropped);
                break;
            case RunOutcome.Failed:
                diagnostics.RunsFailed.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Failed);
                if (run.DeadLettered)
                {
                    diagnostics.RunsDeadLettered.Add(1, task.MetricTag);
                    Interlocked.Increment(ref task.DeadLettered);
                }

                break;
            default:
                diagnostics.RunsAbandoned.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Abandoned);
                break;
        }

        if (run.Activity is { } activity)
        {
            if (run.Outcome == RunOutcome.Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error, run.Failure?.Exception.Message);
            }

            activity.SetTag("meshinery.outcome", run.Outcome.ToString());
            activity.Stop();
        }

        run.Context.EndScope(run.ExecutionContext); // disposes the run's service scope, if it has one, in the background

        try
        {
            run.Acknowledger?.Acknowledge(run.Position, run.Outcome);
        }
        catch (Exception error)
        {
            Log.AcknowledgeFailed(environment.Logger, error, run.TaskName, run.Position);
        }

        run.InjectCompletion?.TrySetResult(new RunResult(run.Outcome, run.ItemAsObject, run.Failure));
        runs.Return(run);
        limits.Release(task);
    }
}
