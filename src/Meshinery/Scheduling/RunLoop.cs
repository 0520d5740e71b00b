using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// The run loop: one dedicated thread that takes ready runs and decides what happens next. It sends a run's next step
/// to the task's worker pool, holds retried runs in a delay queue, routes failures to the error handler or the
/// dead-letter output, and acknowledges finished runs. It runs no user code (except <see cref="RetryOptions.ShouldRetry"/>).
/// </summary>
internal sealed class RunLoop : IDisposable
{
    private static readonly TimeSpan OutageWarningInterval = TimeSpan.FromSeconds(5);
    private readonly Scheduler _scheduler;
    private readonly ConcurrentQueue<TaskRun> _ready = new();
    private readonly LoopSignal _signal = new();
    private readonly PriorityQueue<TaskRun, long> _delayed = new();
    private readonly ITimer _delayTimer;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _timerDueAt = long.MaxValue;
    private volatile bool _timerFired;
    private volatile bool _stopping;
    private volatile bool _started;

    public RunLoop(Scheduler scheduler)
    {
        _scheduler = scheduler;
        _delayTimer = scheduler.TimeProvider.CreateTimer(
            static state =>
            {
                var loop = (RunLoop)state!;
                loop._timerFired = true;
                loop._signal.Set();
            },
            this,
            Timeout.InfiniteTimeSpan,
            Timeout.InfiniteTimeSpan);
        _thread = new Thread(Loop) { IsBackground = true, Name = "meshinery-run-loop" };
    }

    public Task Exited => _exited.Task;

    public void Start()
    {
        _started = true;
        _thread.UnsafeStart();
    }

    public void Enqueue(TaskRun run)
    {
        _ready.Enqueue(run);
        _signal.Set();
    }

    /// <summary>Wakes the loop (for example to abandon delayed runs after cancellation).</summary>
    public void Wake() => _signal.Set();

    public void Stop()
    {
        _stopping = true;
        _signal.Set();
        if (!_started)
        {
            // The engine's start failed before the loops ran (a source or sink did not start): no thread will ever
            // report its exit, and stopping awaits it.
            _exited.TrySetResult();
        }
    }

    public void Dispose()
    {
        _delayTimer.Dispose();
        _signal.Dispose();
    }

    private void Loop()
    {
        try
        {
            while (true)
            {
                while (_ready.TryDequeue(out var run))
                {
                    Dispatch(run);
                }

                ReleaseDueRuns();
                if (_stopping)
                {
                    break;
                }

                _signal.Wait();
            }

            _exited.TrySetResult();
        }
        catch (Exception error)
        {
            Log.LoopFailed(_scheduler.Logger, error, "run");
            _exited.TrySetException(error);
            _scheduler.ReportFatalError(error);
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
                if (_scheduler.RunsCancellation.IsCancellationRequested)
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
                Log.RunFailed(_scheduler.Logger, run.Failure!.Exception, run.Failure);
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
        if (_scheduler.RunsCancellation.IsCancellationRequested)
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
            var delay = _scheduler.Options.Backoff(run.Attempt);
            var now = _scheduler.TimeProvider.GetTimestamp();
            if (run.Task.LastOutageWarning == 0 || _scheduler.TimeProvider.GetElapsedTime(run.Task.LastOutageWarning, now) >= OutageWarningInterval)
            {
                run.Task.LastOutageWarning = now;
                Log.StepRetrying(_scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            }
            else
            {
                Log.StepRetryingAgain(_scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            }

            Delay(run, delay);
            return;
        }

        if (step is DeadLetterStep)
        {
            Log.DeadLetterFailed(_scheduler.Logger, error, run.TaskName, run.Position, run.Failure!);
            run.Finish(RunOutcome.Failed);
            Acknowledge(run);
            return;
        }

        var retry = run.Task.Definition.Retry;
        if (step is not ReadFailureStep && run.Attempt < retry.MaxAttempts && ShouldRetry(retry, error))
        {
            var delay = retry.DelayBeforeAttempt(run.Attempt + 1);
            Log.StepRetrying(_scheduler.Logger, error, run.TaskName, step.Name, run.Position, run.Attempt, delay);
            Delay(run, delay);
            return;
        }

        // An unreadable item has no value: its slot holds default(T), which for a value type would pass for a real 0.
        var item = step is ReadFailureStep ? null : run.ItemAsObject;
        run.Failure = new ProcessingFailure(
            run.TaskName, step.Name, item, error, run.Attempt, run.Position, run.Raw, _scheduler.TimeProvider.GetUtcNow());
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
            Log.TransientCheckFailed(_scheduler.Logger, classifierError, step.Name);
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
        _scheduler.Diagnostics.RunsRetried.Add(1, run.Task.MetricTag);
        var time = _scheduler.TimeProvider;
        _delayed.Enqueue(run, time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency));
    }

    private void ReleaseDueRuns()
    {
        if (_delayed.Count == 0)
        {
            return;
        }

        var cancelled = _scheduler.RunsCancellation.IsCancellationRequested;
        var now = _scheduler.TimeProvider.GetTimestamp();
        while (_delayed.TryPeek(out var run, out var dueAt) && (dueAt <= now || cancelled))
        {
            _delayed.Dequeue();
            Dispatch(run); // after cancellation Dispatch abandons it
        }

        // Re-arm when the earliest due time changed, or when the timer fired (a clock may fire a hair early).
        if (_delayed.TryPeek(out _, out var nextDueAt) && (nextDueAt != _timerDueAt || _timerFired))
        {
            _timerFired = false;
            _timerDueAt = nextDueAt;
            var wait = _scheduler.TimeProvider.GetElapsedTime(now, nextDueAt);
            _delayTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private void Acknowledge(TaskRun run)
    {
        if (run.TryMarkFinished())
        {
            _scheduler.FinishRun(run);
        }
    }
}
