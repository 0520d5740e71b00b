using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// The poll loop: one dedicated thread that visits every task's inputs round-robin and asks each for at most as many
/// items as the task (and the engine) has free in-flight slots, turning each item into a run. When nothing was
/// read it sleeps until a source signals items, a finishing run frees slots, or the idle poll interval passes.
/// </summary>
internal sealed class PollLoop : IDisposable
{
    private readonly Scheduler _scheduler;
    private readonly (TaskRuntime Task, InputBinding Input)[] _inputs;
    private readonly LoopSignal _signal = new();
    private readonly ITimer _idleTimer;
    private readonly Thread _thread;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _stopping;
    private volatile bool _started;

    public PollLoop(Scheduler scheduler)
    {
        _scheduler = scheduler;
        _inputs = [.. scheduler.Tasks.SelectMany(t => t.Definition.Inputs.Select(i => (t, i)))];
        _idleTimer = scheduler.TimeProvider.CreateTimer(static s => ((LoopSignal)s!).Set(), _signal, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _thread = new Thread(Loop) { IsBackground = true, Name = "meshinery-poll-loop" };
    }

    public Task Exited => _exited.Task;

    public void Start()
    {
        _started = true;
        _thread.UnsafeStart();
    }

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
        _idleTimer.Dispose();
        _signal.Dispose();
    }

    private void Loop()
    {
        try
        {
            var next = 0;
            while (!_stopping)
            {
                var read = PollOnce(next, out var retryAt);
                next = _inputs.Length == 0 ? 0 : (next + 1) % _inputs.Length;
                if (read)
                {
                    continue;
                }

                if (_scheduler.Options.StopWhenDrained && IsDrained())
                {
                    Log.BatchDrained(_scheduler.Logger);
                    _scheduler.RequestStop();
                    break;
                }

                var wait = _scheduler.Options.IdlePollInterval;
                if (retryAt != long.MaxValue)
                {
                    var untilRetry = _scheduler.TimeProvider.GetElapsedTime(_scheduler.TimeProvider.GetTimestamp(), retryAt);
                    wait = untilRetry < wait ? (untilRetry > TimeSpan.Zero ? untilRetry : TimeSpan.Zero) : wait;
                }

                _idleTimer.Change(wait, Timeout.InfiniteTimeSpan);
                _signal.Wait();
            }

            _exited.TrySetResult();
        }
        catch (Exception error)
        {
            Log.LoopFailed(_scheduler.Logger, error, "poll");
            _exited.TrySetException(error);
            _scheduler.ReportFatalError(error);
        }
    }

    /// <summary>Visits every input once, starting at <paramref name="first"/>; returns whether any item was read.</summary>
    private bool PollOnce(int first, out long retryAt)
    {
        var read = false;
        retryAt = long.MaxValue;
        var time = _scheduler.TimeProvider;
        var now = time.GetTimestamp();
        for (var k = 0; k < _inputs.Length && !_stopping; k++)
        {
            var (task, input) = _inputs[(first + k) % _inputs.Length];
            if (input.RetryAfter > now)
            {
                retryAt = Math.Min(retryAt, input.RetryAfter);
                continue;
            }

            var free = Math.Min(task.FreeSlots, _scheduler.FreeSlots);
            if (free <= 0)
            {
                continue; // full: not polled until finishing runs free slots (back-pressure)
            }

            try
            {
                read |= input.Poll(free, task, _scheduler) > 0;
                input.ConsecutiveFailures = 0;
            }
            catch (Exception error)
            {
                input.ConsecutiveFailures++;
                var delay = _scheduler.Options.Backoff(input.ConsecutiveFailures);
                input.RetryAfter = now + (long)(delay.TotalSeconds * time.TimestampFrequency);
                retryAt = Math.Min(retryAt, input.RetryAfter);
                _scheduler.Diagnostics.PollErrors.Add(1, task.MetricTag);
                Log.PollFailed(_scheduler.Logger, error, input.Source.Name, task.Name, input.ConsecutiveFailures, delay);
            }
        }

        return read;
    }

    private bool IsDrained() =>
        _scheduler.InFlight == 0 && _inputs.All(i => i.Input.Source.IsDrained);
}
