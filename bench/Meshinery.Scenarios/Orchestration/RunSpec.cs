namespace Meshinery.Scenarios.Orchestration;

/// <summary>The systems the harness compares.</summary>
internal static class SystemNames
{
    /// <summary>One consumer, one thread: consume, produce the output without waiting for it, commit periodically.</summary>
    public const string RawLoop = "raw-loop";

    /// <summary>One consumer, one thread, nothing else: how fast the cluster can hand out messages.</summary>
    public const string ConsumeOnly = "consume-only";

    /// <summary>One message at a time per partition: a thread and a consumer per partition (Kafka Streams' model).</summary>
    public const string Sequential = "sequential";

    /// <summary>N workers with a bounded queue each, messages routed by key hash (KafkaFlow's model).</summary>
    public const string KeyHashWorkers = "key-hash-workers";

    /// <summary>Streamiz.Kafka.Net with its async processor (MapValuesAsync), one stream thread per partition.</summary>
    public const string Streamiz = "streamiz";

    /// <summary>Meshinery, unordered.</summary>
    public const string Meshinery = "meshinery";

    /// <summary>Meshinery with an in-memory input (idle measurement only).</summary>
    public const string MeshineryInMemory = "meshinery-in-memory";

    public static readonly string[] Compared = [Sequential, KeyHashWorkers, Meshinery];
}

/// <summary>What the per-message work is.</summary>
internal enum WorkKind
{
    /// <summary>Nothing: raw overhead.</summary>
    Noop,

    /// <summary><c>Thread.Sleep(L)</c>: a blocking call.</summary>
    Blocking,

    /// <summary><c>await Task.Delay(L)</c>: an async wait.</summary>
    Async,

    /// <summary>No messages at all: the system's idle cost.</summary>
    Idle,
}

/// <summary>One run of one system, handed to a child process as a JSON line on its standard input.</summary>
internal sealed record RunSpec
{
    public required string System { get; init; }

    public required WorkKind Kind { get; init; }

    public required string BootstrapServers { get; init; }

    public required string InputTopic { get; init; }

    public required string OutputTopic { get; init; }

    public required string GroupId { get; init; }

    public required int Partitions { get; init; }

    public int LatencyMs { get; init; }

    public required int Concurrency { get; init; }

    /// <summary>Outputs to wait for; the run ends when this many are acknowledged.</summary>
    public required long Target { get; init; }

    /// <summary>The run also ends this long after the first message was read (sequential runs, flood).</summary>
    public required double BudgetSeconds { get; init; }

    /// <summary>Meshinery's <c>KafkaOptions.MaxPendingPerPartition</c>; null for the library's default.</summary>
    public int? MaxPendingPerPartition { get; init; }

    /// <summary>For <see cref="WorkKind.Idle"/>: how long to measure.</summary>
    public double IdleSeconds { get; init; }

    /// <summary>
    /// A topic to run the same system on first, unmeasured, so that the measured run sees steady-state code (tiered
    /// compilation has promoted the hot methods); null for no warm-up.
    /// </summary>
    public string? WarmupTopic { get; init; }

    public string? WarmupOutputTopic { get; init; }

    public long WarmupMessages { get; init; }

    /// <summary>Meshinery orders its runs by the message key.</summary>
    public bool OrderByKey { get; init; }

    /// <summary>The child prints <see cref="RunReport.ReadyLine"/> once the system is assigned its partitions (open loop).</summary>
    public bool AnnounceReady { get; init; }

    /// <summary>
    /// The consumers' <c>fetch.wait.max.ms</c>, for workloads fed while they run (null: librdkafka's 500 ms). The
    /// embedded cluster holds a fetch that finds no data for the whole wait and does not answer early when data
    /// arrives (a real broker answers as soon as <c>fetch.min.bytes</c> is there), so with the default a live load
    /// reaches every system in bursts up to 500 ms late.
    /// </summary>
    public int? FetchWaitMaxMs { get; init; }

    /// <summary>
    /// The consumers' <c>session.timeout.ms</c> for runs of several instances in one group (null: librdkafka's 45 s).
    /// The embedded cluster's coordinator waits the session timeout less 1 s before it completes any rebalance after
    /// the group's first (cooperative-sticky needs two), so with 45 s the instances would wait minutes for partitions.
    /// </summary>
    public int? SessionTimeoutMs { get; init; }

    /// <summary>The run also ends when nothing was acknowledged for this long after the first output (0: never; scale-out).</summary>
    public double QuietSeconds { get; init; }

    /// <summary>Messages from this sequence number on are high priority for Meshinery (<c>WithPriority</c>); null: no lanes.</summary>
    public long? PriorityFrom { get; init; }

    /// <summary>Meshinery's in-flight limit, when other than <see cref="Concurrency"/>.</summary>
    public int? MaxInFlight { get; init; }

    /// <summary>Meshinery's task gets an elastic pool from this many threads to <see cref="Concurrency"/>; 0: none.</summary>
    public int ElasticMinWorkers { get; init; }

    public double ElasticIdleSeconds { get; init; }

    /// <summary>The child reports a time series sampled at this interval (0: none).</summary>
    public double SampleSeconds { get; init; }

    /// <summary>How long the whole child may take before the parent kills it.</summary>
    public required double DeadlineSeconds { get; init; }
}

/// <summary>What a child process reports back (one JSON line on its standard output, after <see cref="Prefix"/>).</summary>
internal sealed record RunReport
{
    public const string Prefix = "RESULT ";

    /// <summary>Printed alone on a line when the system is ready to read (only with <see cref="RunSpec.AnnounceReady"/>).</summary>
    public const string ReadyLine = "READY";

    public long Acked { get; init; }

    public long Failed { get; init; }

    public string? FirstError { get; init; }

    public long FirstReadStamp { get; init; }

    public long LastAckStamp { get; init; }

    /// <summary>Why the run ended: <c>target</c>, <c>budget</c> or <c>idle</c>.</summary>
    public string EndReason { get; init; } = string.Empty;

    public double CpuSeconds { get; init; }

    public double WallSeconds { get; init; }

    public long PeakWorkingSetBytes { get; init; }

    public long KernelPeakResidentBytes { get; init; }

    /// <summary>Voluntary context switches of all the process's threads during the measured window.</summary>
    public long WakeUps { get; init; }

    public double StopSeconds { get; init; }

    /// <summary>Managed bytes allocated during the measured window (all threads).</summary>
    public long AllocatedBytes { get; init; }

    /// <summary>Idle only: CPU time of the JIT's background (tiered compilation) thread during the window.</summary>
    public double JitCpuSeconds { get; init; }

    /// <summary>Garbage collections (of any generation) during the measured window.</summary>
    public int Collections { get; init; }

    /// <summary>The steady-state window (see <see cref="Measurement.SteadyWindow"/>); null for idle runs or when it never opened.</summary>
    public Measurement.SteadyReport? Steady { get; init; }

    /// <summary>Sampled over the run when <see cref="RunSpec.SampleSeconds"/> is set.</summary>
    public IReadOnlyList<Measurement.SeriesSample>? Series { get; init; }
}
