using System.Threading.RateLimiting;

namespace Meshinery;

/// <summary>
/// A task's step rate limit (<see cref="TaskBuilder{TInput, T}.WithStepRateLimit"/>): each processor step takes a
/// permit before it starts. A run that finds none gives its worker back and waits in the bucket's queue (oldest first);
/// when the bucket refills, the run goes back to its worker pool with the permit it was granted. The waiting run keeps
/// its in-flight slot, so a task whose steps wait stops reading: back-pressure, nothing is dropped.
/// </summary>
/// <remarks>
/// A token bucket (<see cref="TokenBucketRateLimiter"/>, without auto-replenishment) of <see cref="RateLimit.Permits"/>
/// tokens, refilled to full every <see cref="RateLimit.Per"/> by a timer of the engine's clock, so a fake clock drives it
/// in tests (as for <see cref="PollBudget"/>).
/// </remarks>
internal sealed class StepRateLimiter : IDisposable
{
    private readonly TokenBucketRateLimiter _bucket;
    private readonly ITimer _refill;
    private int _waiting;

    public StepRateLimiter(RateLimit limit, TimeProvider time)
    {
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = limit.Permits,
            TokensPerPeriod = limit.Permits,

            // The engine's timer decides when a period has passed (see PollBudget): every refill asked for is accepted.
            ReplenishmentPeriod = TimeSpan.FromTicks(1),
            AutoReplenishment = false,

            // Runs waiting for a permit are bounded by the task's in-flight limit; the queue never turns one away.
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        _refill = time.CreateTimer(static state => ((TokenBucketRateLimiter)state!).TryReplenish(), _bucket, limit.Per, limit.Per);
    }

    /// <summary>Runs waiting for a permit now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The task's step rate limiter, or <see langword="null"/> when it has no step rate limit.</summary>
    public static StepRateLimiter? For(TaskDefinition definition, TimeProvider time) =>
        definition.StepRateLimit is { } limit ? new StepRateLimiter(limit, time) : null;

    /// <summary>
    /// Takes a permit for the run's next step (on the worker that owns the run). False when none is left: the limiter
    /// then owns the run and sends it back to its pool once a permit is granted; the caller must not touch it again.
    /// </summary>
    public bool TryEnter(TaskRun run)
    {
        if (run.HasStepPermit)
        {
            run.HasStepPermit = false; // granted while it waited
            return true;
        }

        // With runs queued (oldest first), this fails even if tokens remain: a fresh step does not overtake a waiting one.
        using (var lease = _bucket.AttemptAcquire(1))
        {
            if (lease.IsAcquired)
            {
                return true;
            }
        }

        Interlocked.Increment(ref _waiting);
        var permit = _bucket.AcquireAsync(1, run.CancellationToken);
        run.HandOff();
        permit.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(() => Resume(run, permit));
        return false;
    }

    public void Dispose()
    {
        _refill.Dispose();
        _bucket.Dispose();
    }

    private void Resume(TaskRun run, ValueTask<RateLimitLease> permit)
    {
        try
        {
            permit.GetAwaiter().GetResult().Dispose(); // a token bucket's lease holds nothing
        }
        catch (OperationCanceledException)
        {
            // The engine gave up on its runs: the worker abandons this one before its step.
        }

        Interlocked.Decrement(ref _waiting);
        run.TakeOver();

        // Granted; or the run was cancelled (abandoned before its step) or the limiter disposed with the engine: either
        // way the step must not wait again.
        run.HasStepPermit = true;
        run.HandOff();
        run.Task.Dispatch(run, resumed: true);
    }
}
