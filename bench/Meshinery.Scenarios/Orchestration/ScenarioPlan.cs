namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// The workloads of issue 12 (latency under a steady load) and issue 9 (key order) in the harness, apart from the
/// throughput plan: run them alone with <c>--only open-,keyorder-</c>.
/// </summary>
internal static class ScenarioPlan
{
    private const int Latency = 50;
    private const int Concurrency = 200;

    public static IEnumerable<Workload> Create(bool quick)
    {
        // Open loop: a producer writes at a fixed share of the bound C / L while the system runs, so latency is what
        // a message sees at that load, not the time it waited in a backlog.
        var seconds = quick ? 5.0 : 10.0;
        var bound = Concurrency * 1000.0 / Latency;
        foreach (var load in new[] { 0.5, 0.8 })
        {
            var rate = bound * load;
            var messages = (long)(rate * seconds);
            yield return new Workload
            {
                Id = $"open-async-c{Concurrency}-load{load * 100:0}",
                Name = "open-loop",
                Kind = WorkKind.Async,
                Partitions = 1,
                LatencyMs = Latency,
                Concurrency = Concurrency,
                Seeded = 0,
                Target = messages,
                RatePerSecond = rate,
                BudgetSeconds = seconds + 15,
                MaxPendingPerPartition = 200_000,
                Systems = [SystemNames.KeyHashWorkers, SystemNames.Meshinery],
            };
        }

        // Scale-out: 1, 2 and 3 instances of one consumer group (separate processes, started together) on 12
        // partitions; each instance ends once it has had nothing to do for a few seconds, and every input must have
        // its output. The figure is outputs / (last output of any instance - first read of any instance).
        var scaleMessages = quick ? 24_000L : 48_000L;
        foreach (var instances in new[] { 1, 2, 3 })
        {
            yield return new Workload
            {
                Id = $"scaleout-p12-i{instances}",
                Name = "scale-out",
                Kind = WorkKind.Async,
                Partitions = 12,
                LatencyMs = Latency,
                Concurrency = Concurrency,
                Seeded = scaleMessages,
                Target = long.MaxValue,
                Instances = instances,
                QuietSeconds = 5,
                BudgetSeconds = 90,
                MaxPendingPerPartition = 200_000,
                Systems = [SystemNames.Meshinery],
            };
        }

        // Key order on one partition (issue 9; Parallel Consumer's KEY-mode table): 10, 100 and 1,000 distinct keys
        // with Meshinery's OrderByKey() against unordered; the key-hash workers are key-ordered by construction. The
        // bound is min(C, keys) / L, so each run lasts about `keySeconds` at its bound.
        var keySeconds = quick ? 2.5 : 5.0;
        foreach (var keys in new[] { 10, 100, 1_000 })
        {
            foreach (var ordered in new[] { true, false })
            {
                var keyBound = (ordered ? Math.Min(Concurrency, keys) : Concurrency) * 1000.0 / Latency;
                var messages = (long)(keyBound * keySeconds);
                yield return new Workload
                {
                    Id = $"keyorder-k{keys}-{(ordered ? "key" : "unordered")}",
                    Name = ordered ? "key-order" : "key-unordered",
                    Kind = WorkKind.Async,
                    Partitions = 1,
                    LatencyMs = Latency,
                    Concurrency = Concurrency,
                    Seeded = messages,
                    Target = messages,
                    Keys = keys,
                    OrderByKey = ordered,
                    BudgetSeconds = (keySeconds * 3) + 10,
                    MaxPendingPerPartition = 200_000,
                    Systems = ordered ? [SystemNames.Meshinery, SystemNames.KeyHashWorkers] : [SystemNames.Meshinery],
                };
            }
        }
    }
}
