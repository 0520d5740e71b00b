using System.Collections.Concurrent;

namespace Meshinery;

/// <summary>
/// The run loop: one dedicated thread that takes ready runs and decides what happens next. It sends a run's next step
/// to the task's worker pool, holds retried runs in a delay queue, routes failures to the error handler or the
/// dead-letter output, and acknowledges finished runs. It runs no steps; the only user code it calls is
/// <see cref="RetryOptions.ShouldRetry"/>, <see cref="OutputSink.IsTransient"/> and <see cref="IAcknowledger.Acknowledge"/>.
/// </summary>
internal sealed class RunLoop : DedicatedLoop
{
    private static readonly TimeSpan OutageWarningInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentQueue<TaskRun> _ready = new();
    private readonly PriorityQueue<TaskRun, long> _delayed = new();
    private readonly ITimer _delayTimer;
    private long _timerDueAt = long.MaxValue;
    private volatile bool _timerFired;

    public RunLoop(Scheduler scheduler)
        : base(scheduler, "run")
    {
        _delayTimer = scheduler.TimeProvider.CreateTimer(
            static state =>
            {
                var loop = (RunLoop)state!;
                loop._timerFired = true;
                loop.Signal.Set();
            },
            this,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
    }

    public void Enqueue(TaskRun run)
    {
        _ready.Enqueue(run);
        Signal.Set();
    }

    public override void Dispose()
    {
        _delayTimer.Dispose();
        base.Dispose();
    }

    protected override void Run()
    {
        while (true)
        {
            while (_ready.TryDequeue(out var run))
            {
                Dispatch(run);
            }

            ReleaseDueRuns();
            if (Stopping)
            {
                return;
            }

            Signal.Wait();
        }
    }

    private void Dispatch(TaskRun run)
    {
        switch (run.Phase)
        {
            case RunPhase.Step when run.IsAtEnd:
                run.Finish(RunOutcome.Completed);
                Acknowledge(run);
                break;
            case RunPhase.Step or RunPhase.HandleError:
                if (Scheduler.RunsCancellation.IsCancellationRequested)
                {
                    run.Finish(RunOutcome.Abandoned);
                    Acknowledge(run);
                }
                else
                {
                    run.Task.Workers.Enqueue(run, run.HasStarted);
                }

                break;
            case RunPhase.Faulted:
                OnFault(run);
                break;
            case RunPhase.DeadLetter when run.Task.DeadLetterStep is null:
                Log.RunFailed(Scheduler.Logger, run.Failure!.Exception, run.Failure);
                run.Finish(RunOutcome.Failed);
                Acknowledge(run);
                break;
            case RunPhase.DeadLetter:
                run.Task.Workers.Enqueue(run, resumed: true);
                break;
            case RunPhase.Done:
                Acknowledge(run);
                break;
        }
    }

    private void OnFault(TaskRun run)
    {
        var error = run.Error!;
        var step = run.FailedStep!;
        if (Scheduler.RunsCancellation.IsCancellationRequested)
        {
            // At shutdown a failure is most likely the cancellation itself; the item is not done either way.
            run.Finish(RunOutcome.Abandoned);
            Acknowledge(run);
            return;
        }

        if (IsTransient(step, error))
        {
            // Outputs: retried for as long as the engine runs; the run keeps its slot, so a long outage stops polling.
            // During an outage every waiting run fails again and again: one warning per task every few seconds is enough.
            var delay = Scheduler.Options.Backoff(run.Attempt);
            var now = Scheduler.TimeProvider.GetTimestamp();
            if (run.Task.LastOutageWarning == 0 || Scheduler.TimeProvider.GetElapsedTime(run.Task.LastOutageWarning, now) >= OutageWarningInterval)
            {
                run.Task.LastOutageWarning = now;
                Log.StepRetrying(Scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            }
            else
            {
                Log.StepRetryingAgain(Scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            }

            Delay(run, delay);
            return;
        }

        if (step is DeadLetterStep)
        {
            Log.DeadLetterFailed(Scheduler.Logger, error, run.TaskName, run.Position, run.Failure!);
            run.Finish(RunOutcome.Failed);
            Acknowledge(run);
            return;
        }

        var retry = run.Task.Definition.Retry;
        if (step is not ReadFailureStep && run.Attempt < retry.MaxAttempts && ShouldRetry(retry, error))
        {
            var delay = retry.DelayBeforeAttempt(run.Attempt + 1);
            Log.StepRetrying(Scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            Delay(run, delay);
            return;
        }

        // An unreadable item has no value: its slot holds default(T), which for a value type would pass for a real 0.
        var item = step is ReadFailureStep ? null : run.ItemAsObject;
        run.Failure = new ProcessingFailure(
            run.TaskName, step.Name, item, error, run.Attempt, run.Position, run.Raw, Scheduler.TimeProvider.GetUtcNow());
        run.Phase = run.Task.Definition.ErrorHandler is null ? RunPhase.DeadLetter : RunPhase.HandleError;
        Dispatch(run);
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
            Log.TransientCheckFailed(Scheduler.Logger, classifierError, step.Name);
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

    private void Delay(TaskRun run, TimeSpan delay)
    {
        run.PrepareRetry();
        Interlocked.Increment(ref run.Task.Retried);
        Scheduler.Diagnostics.RunsRetried.Add(1, run.Task.MetricTag);
        var time = Scheduler.TimeProvider;
        _delayed.Enqueue(run, time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency));
    }

    private void ReleaseDueRuns()
    {
        if (_delayed.Count == 0)
        {
            return;
        }

        var cancelled = Scheduler.RunsCancellation.IsCancellationRequested;
        var now = Scheduler.TimeProvider.GetTimestamp();
        while (_delayed.TryPeek(out var run, out var dueAt) && (dueAt <= now || cancelled))
        {
            _delayed.Dequeue();
            Dispatch(run); // after cancellation it is abandoned here, or by the worker it goes to (a dead-letter write)
        }

        // Re-arm when the earliest due time changed, or when the timer fired (a clock may fire a hair early).
        if (_delayed.TryPeek(out _, out var nextDueAt) && (nextDueAt != _timerDueAt || _timerFired))
        {
            _timerFired = false;
            _timerDueAt = nextDueAt;
            var wait = Scheduler.TimeProvider.GetElapsedTime(now, nextDueAt);
            _delayTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private void Acknowledge(TaskRun run)
    {
        if (run.TryMarkFinished())
        {
            Scheduler.FinishRun(run);
        }
    }
}
