namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// The priority workloads of issue 9: a trickle of high-priority messages behind 100,000 normal ones, with Meshinery's
/// lanes (<c>WithPriority</c>) and without. Run them alone with <c>--only priority-</c>.
/// </summary>
/// <remarks>
/// The lanes reorder steps waiting for a worker, so the backlog has to wait there: blocking work on W worker threads
/// with an in-flight limit above the backlog, so that every normal message is admitted at once and queued on the pool.
/// Without lanes a high-priority message then waits behind the whole remaining backlog; with them, about one step.
/// </remarks>
internal static class PriorityPlan
{
    private const long Backlog = 100_000;
    private const int Workers = 16;
    private const int Latency = 1;

    public static IEnumerable<Workload> Create(bool quick)
    {
        // 20/s for 5 s (quick) or 10 s: the trickle ends while the backlog (about 100,000 / (W / L) = 6 s or more) drains.
        var high = quick ? 100L : 200L;
        foreach (var lanes in new[] { true, false })
        {
            yield return new Workload
            {
                Id = lanes ? "priority-lanes" : "priority-none",
                Name = lanes ? "priority-lanes" : "priority-none",
                Kind = WorkKind.Blocking,
                Partitions = 1,
                LatencyMs = Latency,
                Concurrency = Workers,
                Seeded = Backlog,
                Target = Backlog + high,
                HighPriorityMessages = high,
                HighPriorityRate = 20,
                PriorityLanes = lanes,
                MaxInFlight = 200_000,
                MaxPendingPerPartition = 200_000,
                BudgetSeconds = 90,
                Systems = [SystemNames.Meshinery],
            };
        }
    }
}
