namespace Meshinery;

/// <summary>
/// The poll loop: one dedicated thread that visits every task's inputs round-robin and asks each for at most as many
/// items as the task (and the engine) has free in-flight slots, turning each item into a run. When nothing was
/// read it sleeps until a source signals items, a finishing run frees slots, or the idle poll interval passes.
/// </summary>
internal sealed class PollLoop : DedicatedLoop
{
    private readonly (TaskRuntime Task, InputBinding Input)[] _inputs;
    private readonly RunStarter _starter;
    private readonly InFlightLimits _limits;
    private readonly Action _requestStop;
    private readonly ITimer? _idleTimer;

    public PollLoop(
        EngineEnvironment environment,
        IReadOnlyList<TaskRuntime> tasks,
        RunStarter starter,
        InFlightLimits limits,
        LoopSignal signal,
        Action requestStop,
        Action<Exception> onFatalError)
        : base(environment, "poll", signal, onFatalError)
    {
        _inputs = [.. tasks.SelectMany(t => t.Definition.Inputs.Select(i => (t, i)))];
        _starter = starter;
        _limits = limits;
        _requestStop = requestStop;
        // On the system clock the loop waits on its signal with a timeout: one wake-up per idle tick. Another clock (a
        // fake one in tests) can only be honoured through its own timer, whose callback sets the signal: that costs
        // the timer thread and a thread-pool thread a wake-up each per tick as well.
        if (environment.TimeProvider != TimeProvider.System)
        {
            _idleTimer = environment.TimeProvider.CreateTimer(static s => ((LoopSignal)s!).Set(), Signal, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    public override void Dispose()
    {
        _idleTimer?.Dispose();
        base.Dispose();
    }

    protected override void Run()
    {
        var next = 0;
        while (!Stopping)
        {
            var read = PollOnce(next, out var retryAt);
            next = _inputs.Length == 0 ? 0 : (next + 1) % _inputs.Length;
            if (read)
            {
                continue;
            }

            if (Environment.Options.StopWhenDrained && IsDrained())
            {
                Log.BatchDrained(Environment.Logger);
                _requestStop();
                return;
            }

            var wait = Environment.Options.IdlePollInterval;
            if (retryAt != long.MaxValue)
            {
                var untilRetry = Environment.TimeProvider.GetElapsedTime(Environment.TimeProvider.GetTimestamp(), retryAt);
                wait = untilRetry < wait ? (untilRetry > TimeSpan.Zero ? untilRetry : TimeSpan.Zero) : wait;
            }

            if (_idleTimer is null)
            {
                Signal.Wait(wait);
            }
            else
            {
                _idleTimer.Change(wait, Timeout.InfiniteTimeSpan);
                Signal.Wait();
            }
        }
    }

    /// <summary>Visits every input once, starting at <paramref name="first"/>; returns whether any item was read.</summary>
    private bool PollOnce(int first, out long retryAt)
    {
        var read = false;
        retryAt = long.MaxValue;
        var now = Environment.TimeProvider.GetTimestamp();
        for (var k = 0; k < _inputs.Length && !Stopping; k++)
        {
            var (task, input) = _inputs[(first + k) % _inputs.Length];
            if (input.RetryAfter > now)
            {
                retryAt = Math.Min(retryAt, input.RetryAfter);
                continue;
            }

            var free = task.Budget.Limit(Math.Min(task.FreeSlots, _limits.FreeSlots));
            if (free <= 0)
            {
                continue; // full, or over its rate: not polled until slots are freed or the budget refills (back-pressure)
            }

            try
            {
                var count = input.Poll(free, task, _starter);
                task.Budget.Consumed(count);
                read |= count > 0;
                input.ConsecutiveFailures = 0;
            }
            catch (Exception error)
            {
                input.ConsecutiveFailures++;
                var delay = Environment.Options.ErrorBackoffAfter(input.ConsecutiveFailures);
                input.RetryAfter = Environment.TimestampAfter(delay);
                retryAt = Math.Min(retryAt, input.RetryAfter);
                Environment.Diagnostics.PollErrors.Add(1, task.MetricTag);
                Log.PollFailed(Environment.Logger, error, input.Source.Name, task.Name, input.ConsecutiveFailures, delay);
            }
        }

        return read;
    }

    private bool IsDrained() =>
        _limits.InFlight == 0 && _inputs.All(i => i.Input.Source.IsDrained);
}
