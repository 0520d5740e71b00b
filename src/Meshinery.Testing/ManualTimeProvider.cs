using Microsoft.Extensions.Time.Testing;

namespace Meshinery.Testing;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also reports every timer the code under test arms, so that a test can wait
/// until the engine has armed the timer it is about to fire (a retry backoff, the drain timeout, a
/// <see cref="TimerInput"/>'s next tick) and only then <see cref="FakeTimeProvider.Advance(TimeSpan)"/> the clock
/// past it. Advancing before the timer is armed is a race; waiting for the arm makes such tests deterministic.
/// </summary>
/// <example>
/// <code>
/// var time = new ManualTimeProvider();
/// // register it before AddMeshinery: services.AddSingleton&lt;TimeProvider&gt;(time)
/// await time.WaitForTimerAsync(TimeSpan.FromSeconds(1)); // the retry's backoff is armed
/// time.Advance(TimeSpan.FromSeconds(1));                 // and fires now
/// </code>
/// </example>
public sealed class ManualTimeProvider : FakeTimeProvider
{
    /// <summary>How long <see cref="WaitForTimerAsync(TimeSpan, TimeSpan?)"/> waits by default: 30 seconds.</summary>
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _unclaimed = [];
    private readonly List<TimeSpan> _history = [];
    private readonly List<(Func<TimeSpan, bool> Match, TaskCompletionSource<TimeSpan> Armed)> _waiters = [];

    /// <summary>Every finite due time a timer was armed (or re-armed) with, in order.</summary>
    public IReadOnlyList<TimeSpan> ArmedTimers
    {
        get
        {
            lock (_lock)
            {
                return [.. _history];
            }
        }
    }

    /// <inheritdoc/>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ObservedTimer(this, base.CreateTimer(callback, state, dueTime, period));
        OnArmed(dueTime);
        return timer;
    }

    /// <summary>
    /// Completes when a timer is (or was, and no earlier call claimed it) armed with exactly <paramref name="dueTime"/>.
    /// Each arm satisfies one call.
    /// </summary>
    /// <param name="dueTime">The due time to wait for.</param>
    /// <param name="deadline">How long to wait (real time). Default: <see cref="DefaultDeadline"/>.</param>
    /// <returns>The due time.</returns>
    /// <exception cref="TimeoutException">No such timer was armed in time; the message lists the timers that were.</exception>
    public Task<TimeSpan> WaitForTimerAsync(TimeSpan dueTime, TimeSpan? deadline = null) =>
        WaitForTimerAsync(d => d == dueTime, $"a timer armed with {dueTime}", deadline);

    /// <summary>Completes when a timer is (or was, unclaimed) armed with a due time matching <paramref name="match"/>.</summary>
    /// <param name="match">Which due times count.</param>
    /// <param name="what">What is awaited, for the timeout's message.</param>
    /// <param name="deadline">How long to wait (real time). Default: <see cref="DefaultDeadline"/>.</param>
    /// <returns>The matching due time.</returns>
    /// <exception cref="TimeoutException">No such timer was armed in time; the message lists the timers that were.</exception>
    public Task<TimeSpan> WaitForTimerAsync(Func<TimeSpan, bool> match, string what, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(match);
        lock (_lock)
        {
            var index = _unclaimed.FindIndex(d => match(d));
            if (index >= 0)
            {
                var due = _unclaimed[index];
                _unclaimed.RemoveAt(index);
                return Task.FromResult(due);
            }

            var armed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, armed));
            return WithDeadlineAsync(armed, what, deadline ?? DefaultDeadline);
        }
    }

    private async Task<TimeSpan> WithDeadlineAsync(TaskCompletionSource<TimeSpan> armed, string what, TimeSpan deadline)
    {
        try
        {
            // Real time, not this fake clock: the deadline guards against a test that would otherwise hang.
            return await armed.Task.WaitAsync(deadline, TimeProvider.System).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            lock (_lock)
            {
                _waiters.RemoveAll(w => w.Armed == armed);
            }

            throw new TimeoutException($"Timed out after {deadline.TotalSeconds:0.#} s waiting for {what} (armed so far: {string.Join(", ", ArmedTimers)}).");
        }
    }

    private void OnArmed(TimeSpan dueTime)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        lock (_lock)
        {
            _history.Add(dueTime);
            var index = _waiters.FindIndex(w => w.Match(dueTime));
            if (index >= 0)
            {
                _waiters[index].Armed.TrySetResult(dueTime);
                _waiters.RemoveAt(index);
            }
            else
            {
                _unclaimed.Add(dueTime);
            }
        }
    }

    private sealed class ObservedTimer(ManualTimeProvider owner, ITimer inner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            owner.OnArmed(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
