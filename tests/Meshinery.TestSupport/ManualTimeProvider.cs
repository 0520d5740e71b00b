using Microsoft.Extensions.Time.Testing;

namespace Meshinery.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also reports every timer the code under test arms, so a test can wait until
/// the engine armed the timer it is about to fire (for example the drain timeout, or a retry backoff) and then
/// <see cref="FakeTimeProvider.Advance(TimeSpan)"/> the clock past it. Advancing before the timer is armed would be a
/// race; waiting for the arm is what makes these tests deterministic.
/// </summary>
public sealed class ManualTimeProvider : FakeTimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _unclaimed = [];
    private readonly List<TimeSpan> _history = [];
    private readonly List<(Func<TimeSpan, bool> Match, TaskCompletionSource<TimeSpan> Armed)> _waiters = [];

    /// <summary>Every finite due time a timer was armed with, in order.</summary>
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
    public Task<TimeSpan> WaitForTimerAsync(TimeSpan dueTime, TimeSpan? deadline = null) =>
        WaitForTimerAsync(d => d == dueTime, $"a timer armed with {dueTime}", deadline);

    /// <summary>Completes when a timer is (or was, unclaimed) armed with a due time matching <paramref name="match"/>.</summary>
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
            return armed.Task.Within(() => $"{what} (armed so far: {string.Join(", ", ArmedTimers)})", deadline);
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
