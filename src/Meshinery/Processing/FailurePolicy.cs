namespace Meshinery;

/// <summary>
/// Decides, in one place, what happens to a run whose step (or read, or dead-letter write) failed: abandon it at
/// shutdown, retry it after a backoff (transient output failures without limit, other failures up to the task's
/// <see cref="RetryOptions.MaxAttempts"/>), call the error handler, write the dead letter, or finish it as failed.
/// It changes the run's phase and says how long the run must wait; the run loop does the waiting and the dispatching.
/// </summary>
internal sealed class FailurePolicy(EngineEnvironment environment)
{
    private static readonly TimeSpan OutageWarningInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Decides for a faulted run (run loop thread). Returns the wait before the failed step is tried again, or
    /// <see langword="null"/> when the run goes on at once in the phase this set (a recovery step, or done).
    /// </summary>
    public TimeSpan? OnFault(TaskRun run)
    {
        environment.RunLoopThread.Assert();
        var error = run.Error!;
        var step = run.FailedStep!;
        if (environment.RunsCancellation.IsCancellationRequested)
        {
            // At shutdown a failure is most likely the cancellation itself; the item is not done either way.
            run.Finish(RunOutcome.Abandoned);
            return null;
        }

        if (IsTransient(step, error))
        {
            return TransientDelay(run, step, error);
        }

        if (step is DeadLetterStep)
        {
            Log.DeadLetterFailed(environment.Logger, error, run.TaskName, run.Position, run.Failure!);
            run.Finish(RunOutcome.Failed);
            return null;
        }

        var retry = run.Task.Definition.Retry;
        if (step is not StartFailureStep && run.Attempt < retry.MaxAttempts && ShouldRetry(retry, error))
        {
            var delay = retry.DelayBeforeAttempt(run.Attempt + 1);
            Log.StepRetrying(environment.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            return delay;
        }

        var item = step is StartFailureStep { HasItem: false } ? null : run.ItemAsObject;
        run.Failure = new ProcessingFailure(
            run.TaskName, step.Name, item, error, run.Attempt, run.Position, run.SourceRecord, environment.TimeProvider.GetUtcNow());
        if (run.Task.ErrorHandlerStep is { } handler)
        {
            run.Recover(handler);
        }
        else
        {
            DeadLetter(run);
        }

        return null;
    }

    /// <summary>Carries out the error handler's decision (worker thread, in the run's context).</summary>
    public void Apply(TaskRun run, ErrorDecision decision)
    {
        var failedStep = run.FailedStep!;
        switch (decision.Kind)
        {
            case ErrorDecisionKind.Drop:
                run.Finish(RunOutcome.Dropped);
                break;
            case ErrorDecisionKind.Continue when IsValidReplacement(failedStep.OutputType, decision.Replacement):
                run.ContinueAfterFailure(decision.Replacement);
                break;
            case ErrorDecisionKind.Continue:
                Log.ReplacementTypeMismatch(
                    environment.Logger, run.TaskName, failedStep.Name, decision.Replacement?.GetType().Name ?? "null", failedStep.OutputType.Name);
                DeadLetter(run);
                break;
            default:
                DeadLetter(run);
                break;
        }
    }

    public void HandlerFailed(TaskRun run, Exception error) =>
        Log.ErrorHandlerFailed(environment.Logger, error, run.TaskName, run.Position);

    private void DeadLetter(TaskRun run)
    {
        if (run.Task.DeadLetterStep is { } deadLetter)
        {
            run.Recover(deadLetter);
        }
        else
        {
            Log.RunFailed(environment.Logger, run.Failure!.Exception, run.Failure);
            run.Finish(RunOutcome.Failed);
        }
    }

    /// <summary>
    /// Outputs: retried for as long as the engine runs; the run keeps its slot, so a long outage stops polling. During an
    /// outage every waiting run fails again and again: one warning per task every few seconds is enough.
    /// </summary>
    private TimeSpan TransientDelay(TaskRun run, Step step, Exception error)
    {
        // Jittered: the runs that failed in one outage must not retry in lockstep.
        var delay = environment.Options.OutputRetryDelayAfter(run.Attempt);
        var time = environment.TimeProvider;
        var now = time.GetTimestamp();
        var task = run.Task;
        if (task.LastOutageWarning == 0 || time.GetElapsedTime(task.LastOutageWarning, now) >= OutageWarningInterval)
        {
            task.LastOutageWarning = now;
            Log.StepRetrying(environment.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
        }
        else
        {
            Log.StepRetryingAgain(environment.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
        }

        return delay;
    }

    private bool IsTransient(Step step, Exception error)
    {
        try
        {
            return step.IsTransientFailure(error);
        }
        catch (Exception classifierError)
        {
            // A sink's classifier that throws must not take the run loop down: treat the failure as permanent.
            Log.TransientCheckFailed(environment.Logger, classifierError, step.Name);
            return false;
        }
    }

    private static bool ShouldRetry(RetryOptions retry, Exception error)
    {
        try
        {
            return retry.ShouldRetry?.Invoke(error) ?? true;
        }
        catch (Exception)
        {
            return false; // a broken predicate must not take the run loop down; the item goes to the error path
        }
    }

    private static bool IsValidReplacement(Type type, object? replacement) =>
        replacement is null
            ? !type.IsValueType || Nullable.GetUnderlyingType(type) is not null
            : type.IsInstanceOfType(replacement);
}
