using System.Threading.RateLimiting;

namespace Meshinery;

/// <summary>
/// How many items the poll loop may read for a task now, on top of its free in-flight slots (poll loop thread).
/// Items not read stay in their source: a budget is back-pressure, it never drops anything.
/// </summary>
internal abstract class PollBudget : IDisposable
{
    /// <summary>No limit beyond the in-flight slots.</summary>
    public static PollBudget Unlimited { get; } = new UnlimitedBudget();

    /// <summary>Creates the budget of a task: unlimited, or its rate limit.</summary>
    public static PollBudget For(TaskDefinition definition, TimeProvider time, LoopSignal pollLoop) =>
        definition.RateLimit is { } limit ? new RateLimitBudget(limit, time, pollLoop) : Unlimited;

    /// <summary>At most how many of <paramref name="free"/> items may be read now.</summary>
    public abstract int Limit(int free);

    /// <summary>Records that <paramref name="count"/> items were read (no more than <see cref="Limit"/> allowed).</summary>
    public abstract void Consumed(int count);

    public virtual void Dispose()
    {
    }

    private sealed class UnlimitedBudget : PollBudget
    {
        public override int Limit(int free) => free;

        public override void Consumed(int count)
        {
        }
    }

    /// <summary>
    /// A token bucket (<see cref="TokenBucketRateLimiter"/>, without auto-replenishment) of <see cref="RateLimit.Permits"/>
    /// tokens, refilled to full every <see cref="RateLimit.Per"/> by a timer of the engine's clock (so a fake clock drives
    /// it in tests), which also wakes the poll loop. Only the poll loop takes tokens, so the tokens it saw are still there when it takes them.
    /// </summary>
    private sealed class RateLimitBudget : PollBudget
    {
        private readonly TokenBucketRateLimiter _bucket;
        private readonly ITimer _refill;

        public RateLimitBudget(RateLimit limit, TimeProvider time, LoopSignal pollLoop)
        {
            _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = limit.Permits,
                TokensPerPeriod = limit.Permits,

                // The bucket measures the time since its last refill on the real clock and refills only in proportion
                // to it. The engine's timer decides when a period has passed (so a fake clock drives it), so the bucket
                // must accept every refill it is asked for: a period of one tick, which any call has outlasted.
                ReplenishmentPeriod = TimeSpan.FromTicks(1),
                AutoReplenishment = false,
                QueueLimit = 0,
            });
            _refill = time.CreateTimer(
                _ =>
                {
                    _bucket.TryReplenish();
                    pollLoop.Set();
                },
                null,
                limit.Per,
                limit.Per);
        }

        public override int Limit(int free) =>
            (int)Math.Min(free, _bucket.GetStatistics()?.CurrentAvailablePermits ?? 0);

        public override void Consumed(int count)
        {
            if (count > 0)
            {
                using var lease = _bucket.AttemptAcquire(count);
                System.Diagnostics.Debug.Assert(lease.IsAcquired, "the poll loop read more items than the rate limit allowed");
            }
        }

        public override void Dispose()
        {
            _refill.Dispose();
            _bucket.Dispose();
            base.Dispose();
        }
    }
}
