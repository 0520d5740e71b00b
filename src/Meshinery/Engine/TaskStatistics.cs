namespace Meshinery;

/// <summary>A snapshot of a task's counters since the engine started (the same figures the metrics report).</summary>
/// <param name="TaskName">The task.</param>
/// <param name="Started">Runs started.</param>
/// <param name="Completed">Runs completed: every step ran and every output write is durable.</param>
/// <param name="Failed">Runs handed to the error path (dead-lettered or logged).</param>
/// <param name="DeadLettered">Of the failed runs, those written to the dead-letter output.</param>
/// <param name="Dropped">Runs dropped by a filter, an unmatched branch or the error handler.</param>
/// <param name="Abandoned">Runs given up at shutdown.</param>
/// <param name="Retried">Step retries (including retried output writes).</param>
/// <param name="InFlight">Runs in flight now.</param>
public sealed record TaskStatistics(
    string TaskName,
    long Started,
    long Completed,
    long Failed,
    long DeadLettered,
    long Dropped,
    long Abandoned,
    long Retried,
    int InFlight)
{
    /// <summary>Runs that have ended, whatever the outcome.</summary>
    public long Finished => Completed + Failed + Dropped + Abandoned;
}
