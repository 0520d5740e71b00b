namespace Meshinery;

/// <summary>
/// The run loop: one dedicated thread that takes ready runs and moves each on: it admits runs of ordered tasks and
/// sends a run's next step to the task's worker pool (an unordered run's first step and the step after an await go
/// there directly, see <see cref="DirectDispatch"/>), asks the <see cref="FailurePolicy"/> what to do with a failed run and holds runs that must wait
/// before a retry in a delay queue, and ends finished runs. It runs no steps; the only user code it calls is
/// <see cref="RetryOptions.ShouldRetry"/>, <see cref="OutputSink.IsTransient"/> and <see cref="IAcknowledger.Acknowledge"/>.
/// </summary>
internal sealed class RunLoop : DedicatedLoop
{
    private readonly RunQueue _ready;
    private readonly PriorityQueue<TaskRun, long> _delayed = new(); // run loop thread only
    private readonly ITimer _delayTimer;
    private readonly FailurePolicy _failures;
    private readonly RunFinisher _finisher;
    private long _timerDueAt = long.MaxValue;
    private volatile bool _timerFired;

    public RunLoop(EngineEnvironment environment, RunQueue ready, FailurePolicy failures, RunFinisher finisher, Action<Exception> onFatalError)
        : base(environment, "run", ready.Signal, onFatalError)
    {
        _ready = ready;
        _failures = failures;
        _finisher = finisher;
        _delayTimer = environment.TimeProvider.CreateTimer(
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

    public override void Dispose()
    {
        _delayTimer.Dispose();
        base.Dispose();
    }

    protected override void Run()
    {
        Environment.RunLoopThread.Claim();
        while (true)
        {
            while (_ready.TryDequeue(out var run))
            {
                run.TakeOver();
                if (!run.IsAdmitted)
                {
                    run.IsAdmitted = true;
                    if (!run.Task.Ordering.TryAdmit(run))
                    {
                        continue; // the ordering policy holds it until the run before it (same key) has ended
                    }
                }

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
            case RunPhase.Step or RunPhase.Recovery:
                if (Environment.RunsCancellation.IsCancellationRequested)
                {
                    run.Finish(RunOutcome.Abandoned);
                    Acknowledge(run);
                }
                else
                {
                    run.HandOff();
                    run.Task.Dispatch(run, resumed: run.HasStarted || run.Phase == RunPhase.Recovery);
                }

                break;
            case RunPhase.Faulted:
                if (_failures.OnFault(run) is { } delay)
                {
                    Delay(run, delay);
                }
                else
                {
                    Dispatch(run);
                }

                break;
            case RunPhase.Done:
                Acknowledge(run);
                break;
        }
    }

    private void Delay(TaskRun run, TimeSpan delay)
    {
        // The due time is read before the retry is counted: whoever sees the count (a test driving a fake clock) knows
        // the run is due relative to the clock as it was then.
        run.PrepareRetry();
        _delayed.Enqueue(run, Environment.TimestampAfter(delay));
        Interlocked.Increment(ref run.Task.Retried);
        Environment.Diagnostics.RunsRetried.Add(1, run.Task.MetricTag);
    }

    private void ReleaseDueRuns()
    {
        if (_delayed.Count == 0)
        {
            return;
        }

        var time = Environment.TimeProvider;
        var cancelled = Environment.RunsCancellation.IsCancellationRequested;
        var now = time.GetTimestamp();
        while (_delayed.TryPeek(out var run, out var dueAt) && (dueAt <= now || cancelled))
        {
            _delayed.Dequeue();
            Dispatch(run); // after cancellation it is abandoned here
        }

        // Re-arm when the earliest due time changed, or when the timer fired (a clock may fire a hair early).
        if (_delayed.TryPeek(out _, out var nextDueAt) && (nextDueAt != _timerDueAt || _timerFired))
        {
            _timerFired = false;
            _timerDueAt = nextDueAt;
            var wait = time.GetElapsedTime(now, nextDueAt);
            _delayTimer.Change(wait > TimeSpan.Zero ? wait : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }

    private void Acknowledge(TaskRun run)
    {
        if (run.TryMarkFinished())
        {
            var next = run.Task.Ordering.Release(run);
            _finisher.Finish(run);
            if (next is not null)
            {
                // Through the queue rather than a nested dispatch: at shutdown a long line of one key ends run by run.
                next.HandOff();
                _ready.Enqueue(next);
            }
        }
    }
}
