namespace Meshinery.Scenarios.Orchestration;

/// <summary>One workload: an input topic seeded once, then consumed by every listed system with its own consumer group.</summary>
internal sealed record Workload
{
    /// <summary>Unique, used in topic names and <c>--only</c>: for example <c>blocking-p1-c200</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The JSON <c>workload</c> field: <c>noop</c>, <c>blocking</c>, <c>async</c>, <c>flood</c> or <c>idle</c>.</summary>
    public required string Name { get; init; }

    public required WorkKind Kind { get; init; }

    public required int Partitions { get; init; }

    public int LatencyMs { get; init; }

    public required int Concurrency { get; init; }

    /// <summary>Messages seeded into the input topic.</summary>
    public required long Seeded { get; init; }

    /// <summary>Outputs a run waits for (<see cref="long.MaxValue"/>: run for the budget).</summary>
    public required long Target { get; init; }

    /// <summary>Processing time allowed after the first read (a run that needs more ends there).</summary>
    public required double BudgetSeconds { get; init; }

    /// <summary>The sequential baseline's budget: at P / L messages per second it cannot finish large workloads.</summary>
    public double? SequentialBudgetSeconds { get; init; }

    public int? MaxPendingPerPartition { get; init; }

    public double IdleSeconds { get; init; }

    /// <summary>Messages of an unmeasured warm-up run before the measured one (0: none).</summary>
    public long WarmupMessages { get; init; }

    public required IReadOnlyList<string> Systems { get; init; }

    /// <summary>Distinct message keys (key = sequence mod Keys); 0: every message its own key.</summary>
    public int Keys { get; init; }

    /// <summary>Meshinery orders its runs by the message key (<c>OrderByKey()</c>).</summary>
    public bool OrderByKey { get; init; }

    /// <summary>Instances of the system in one consumer group, each a process of its own (scale-out).</summary>
    public int Instances { get; init; } = 1;

    /// <summary>See <see cref="RunSpec.QuietSeconds"/>.</summary>
    public double QuietSeconds { get; init; }

    /// <summary>Open loop: the parent produces at this rate while the system runs (nothing is seeded); 0: a backlog.</summary>
    public double RatePerSecond { get; init; }

    /// <summary>Priority: high-priority messages the parent trickles in after the seeded backlog, once the system is ready (0: none).</summary>
    public long HighPriorityMessages { get; init; }

    /// <summary>Priority: the rate of that trickle (messages/s).</summary>
    public double HighPriorityRate { get; init; }

    /// <summary>Priority: Meshinery ranks the trickle high with <c>WithPriority</c> (false: the same load, no lanes).</summary>
    public bool PriorityLanes { get; init; }

    /// <summary>Elastic: the open loop's rate steps (<see cref="RatePerSecond"/> is the peak); null: one steady rate.</summary>
    public IReadOnlyList<LoadStep>? LoadSteps { get; init; }

    /// <summary>Elastic: Meshinery's task gets an elastic pool from this many threads to <see cref="Concurrency"/> (0: none).</summary>
    public int ElasticMinWorkers { get; init; }

    /// <summary>Elastic: the pool's idle timeout.</summary>
    public double ElasticIdleSeconds { get; init; }

    /// <summary>The child samples workers, outputs and threads at this interval (0: no time series).</summary>
    public double SampleSeconds { get; init; }

    /// <summary>Meshinery's in-flight limit when it differs from the concurrency (priority: everything admitted, queued on the pool).</summary>
    public int? MaxInFlight { get; init; }

    /// <summary>The Little's-law bound of a system on this workload (messages/s), or null when latency is not the limit.</summary>
    public double? Bound(string system) => Kind is WorkKind.Blocking or WorkKind.Async
        ? (system == SystemNames.Sequential ? Partitions : KeyLimited(system) ? Math.Min(Concurrency, Keys) : Concurrency) * Instances * 1000.0 / LatencyMs
        : null;

    // Runs of one key never overlap in Meshinery's key order and in the key-hash workers (one worker per key).
    private bool KeyLimited(string system) => Keys > 0 && (OrderByKey || system == SystemNames.KeyHashWorkers);
}

/// <summary>The workloads of a quick and of a full run.</summary>
internal static class Plan
{
    /// <summary>
    /// Partitions of every output topic: the mock broker keeps at most 5 MiB per partition, so outputs are spread wide
    /// enough for the reader to find all of them after the run.
    /// </summary>
    public const int OutputPartitions = 16;

    /// <summary>
    /// <c>fetch.wait.max.ms</c> of every system on the workloads fed while they run (open loop, priority trickle,
    /// elastic step): short enough that the embedded cluster's late answer to an empty fetch (see
    /// <see cref="RunSpec.FetchWaitMaxMs"/>) adds at most 2 ms, as a real broker's early answer would not.
    /// </summary>
    public const int LiveFetchWaitMaxMs = 2;

    /// <summary><c>session.timeout.ms</c> of the scale-out instances (see <see cref="RunSpec.SessionTimeoutMs"/>; the main sample uses the same).</summary>
    public const int GroupSessionTimeoutMs = 10_000;

    /// <summary>Meshinery's pending limit for throughput runs: high enough never to pause a partition.</summary>
    private const int UnthrottledPending = 200_000;

    public static IReadOnlyList<Workload> Create(bool quick)
    {
        var workloads = new List<Workload>();
        string[] noopSystems = [SystemNames.ConsumeOnly, SystemNames.RawLoop, .. SystemNames.Compared, SystemNames.Streamiz];

        // No-op: raw overhead against a plain consume loop. C is high so that waiting for output acknowledgements
        // (a few ms each) never limits the systems that wait for them. Every system first processes a warm-up topic
        // in the same process: a run of a second or two would otherwise measure tiered compilation more than the code.
        // 200,000 in both modes: with fewer, librdkafka has prefetched most of the topic before the first message is
        // read, and the figure would measure its queue rather than the cluster.
        const int noopMessages = 200_000;
        foreach (var partitions in new[] { 1, 8 })
        {
            workloads.Add(new Workload
            {
                Id = $"noop-p{partitions}",
                Name = "noop",
                Kind = WorkKind.Noop,
                Partitions = partitions,
                Concurrency = 2_000,
                Seeded = noopMessages,
                Target = noopMessages,
                WarmupMessages = 150_000,
                BudgetSeconds = 60,
                MaxPendingPerPartition = UnthrottledPending,
                Systems = noopSystems,
            });
        }

        // Latency: L = 50 ms, blocking and async. Each run lasts about `seconds` at the Little's-law bound C / L.
        const int latency = 50;
        var seconds = quick ? 2.5 : 5.0;
        var sequentialBudget = quick ? 2.0 : 5.0;
        int[] sweep = quick ? [50, 200, 400] : [50, 100, 200, 400];
        foreach (var kind in new[] { WorkKind.Blocking, WorkKind.Async })
        {
            var concurrencies = quick && kind == WorkKind.Async ? [200] : sweep;
            foreach (var concurrency in concurrencies)
            {
                workloads.Add(LatencyWorkload(kind, partitions: 1, concurrency, latency, seconds, sequentialBudget));
            }
        }

        foreach (var kind in new[] { WorkKind.Blocking, WorkKind.Async })
        {
            workloads.Add(LatencyWorkload(kind, partitions: 8, concurrency: 200, latency, seconds, sequentialBudget));
        }

        // Thousands in flight on one partition (issue 12). At C / L = 20,000 to 100,000 messages/s the run would need
        // more messages than one partition of the mock broker holds (5 MiB): capped at 200,000, as for no-op.
        foreach (var concurrency in new[] { 1_000, 2_000, 5_000 })
        {
            workloads.Add(LatencyWorkload(WorkKind.Async, partitions: 1, concurrency, latency, seconds, sequentialBudget) is var w && w.Seeded > noopMessages
                ? w with { Seeded = noopMessages, Target = noopMessages }
                : w);
        }

        // Flood: a large backlog and slow processing; only memory matters, with the library's default pending limit.
        // Four partitions: the mock broker keeps at most 5 MiB per partition, and 100k messages must still be well above
        // what a system buffers per partition (Meshinery: 10,000 by default) for the comparison to mean something.
        foreach (var backlog in new long[] { 100_000, 1_000_000 })
        {
            workloads.Add(new Workload
            {
                Id = $"flood-{backlog / 1000}k",
                Name = "flood",
                Kind = WorkKind.Async,
                Partitions = 4,
                LatencyMs = latency,
                Concurrency = 200,
                Seeded = backlog,
                Target = long.MaxValue,
                BudgetSeconds = quick ? 3 : 6,
                Systems = SystemNames.Compared,
            });
        }

        workloads.Add(new Workload
        {
            Id = "idle",
            Name = "idle",
            Kind = WorkKind.Idle,
            Partitions = 1,
            Concurrency = 200,
            Seeded = 0,
            Target = long.MaxValue,
            BudgetSeconds = 0,
            IdleSeconds = quick ? 4 : 10,
            Systems = [SystemNames.Meshinery, SystemNames.MeshineryInMemory, SystemNames.RawLoop],
        });

        workloads.AddRange(ScenarioPlan.Create(quick));
        workloads.AddRange(PriorityPlan.Create(quick));
        workloads.AddRange(ElasticPlan.Create(quick));
        return workloads;
    }

    private static Workload LatencyWorkload(WorkKind kind, int partitions, int concurrency, int latency, double seconds, double sequentialBudget)
    {
        var messages = (long)(concurrency * 1000.0 / latency * seconds);
        var name = kind == WorkKind.Blocking ? "blocking" : "async";
        return new Workload
        {
            Id = $"{name}-p{partitions}-c{concurrency}",
            Name = name,
            Kind = kind,
            Partitions = partitions,
            LatencyMs = latency,
            Concurrency = concurrency,
            Seeded = messages,
            Target = messages,
            BudgetSeconds = (seconds * 3) + 10,
            SequentialBudgetSeconds = sequentialBudget,
            MaxPendingPerPartition = UnthrottledPending,
            Systems = [.. SystemNames.Compared, SystemNames.Streamiz],
        };
    }
}
