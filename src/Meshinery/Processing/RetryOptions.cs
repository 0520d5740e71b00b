namespace Meshinery;

/// <summary>
/// How a task retries a failed step. A retried run waits in the engine's delay queue, so it holds no worker and
/// does not block other items of its partition while it waits.
/// </summary>
public sealed class RetryOptions
{
    /// <summary>How many times a step is tried in all, the first try included. Default: <c>1</c> (no retry).</summary>
    public int MaxAttempts { get; set; } = 1;

    /// <summary>The wait before the first retry. Default: 200 ms.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Each further wait is the previous one times this factor. Default: <c>2</c>.</summary>
    public double BackoffMultiplier { get; set; } = 2;

    /// <summary>The longest wait between tries. Default: 30 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Which exceptions are retried. Default: <see langword="null"/>, every exception except
    /// <see cref="OperationCanceledException"/> at shutdown.
    /// </summary>
    public Func<Exception, bool>? ShouldRetry { get; set; }

    /// <summary>The wait before <paramref name="nextAttempt"/> (2 for the first retry).</summary>
    internal TimeSpan DelayBeforeAttempt(int nextAttempt) => Backoff.Exponential(Delay, BackoffMultiplier, MaxDelay, nextAttempt - 1);

    internal RetryOptions Clone() => (RetryOptions)MemberwiseClone();
}
