using System.Text.Json.Serialization;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// One line of the results: one system on one workload, the median of the repeated runs (each field separately). The
/// first twelve fields are the harness's documented contract; the rest are extras.
/// </summary>
internal sealed record ResultRow
{
    [JsonPropertyName("system")]
    public required string System { get; init; }

    [JsonPropertyName("workload")]
    public required string Workload { get; init; }

    /// <summary>Messages the run was asked to process (for flood: the backlog; 0 for idle).</summary>
    [JsonPropertyName("messages")]
    public required long Messages { get; init; }

    [JsonPropertyName("partitions")]
    public required int Partitions { get; init; }

    [JsonPropertyName("latency_ms")]
    public required int LatencyMs { get; init; }

    [JsonPropertyName("concurrency")]
    public required int Concurrency { get; init; }

    /// <summary>Acknowledged outputs / (last acknowledgement − first read).</summary>
    [JsonPropertyName("throughput_per_s")]
    public required double ThroughputPerSecond { get; init; }

    /// <summary>Little's law: C / L (sequential: P / L); null where latency is not the limit.</summary>
    [JsonPropertyName("bound_per_s")]
    public required double? BoundPerSecond { get; init; }

    /// <summary>End-to-end latency, produce to output, with a backlog message counted as produced when the system started reading.</summary>
    [JsonPropertyName("p50_ms")]
    public required double? P50Milliseconds { get; init; }

    [JsonPropertyName("p99_ms")]
    public required double? P99Milliseconds { get; init; }

    /// <summary>CPU time of the system's process from its start to its last acknowledgement (idle: over the idle window).</summary>
    [JsonPropertyName("cpu_s")]
    public required double CpuSeconds { get; init; }

    /// <summary>Peak working set of the system's process, sampled every 100 ms.</summary>
    [JsonPropertyName("peak_mb")]
    public required double PeakMegabytes { get; init; }

    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The workload's C (the sequential baseline's own concurrency is P, in <see cref="Concurrency"/>).</summary>
    [JsonPropertyName("workload_concurrency")]
    public required int WorkloadConcurrency { get; init; }

    [JsonPropertyName("kind")]
    public required string Kind { get; init; }

    [JsonPropertyName("ratio_to_bound")]
    public double? RatioToBound { get; init; }

    /// <summary>No-op only: throughput / the raw loop's throughput on the same workload.</summary>
    [JsonPropertyName("ratio_to_raw")]
    public double? RatioToRaw { get; set; }

    /// <summary>From the time the system read a message to the time it produced its output.</summary>
    [JsonPropertyName("service_p50_ms")]
    public double? ServiceP50Milliseconds { get; init; }

    [JsonPropertyName("service_p99_ms")]
    public double? ServiceP99Milliseconds { get; init; }

    /// <summary>Outputs acknowledged by the end of the measured window.</summary>
    [JsonPropertyName("processed")]
    public long Processed { get; init; }

    /// <summary>Outputs found in the output topic after the run (includes what was finished while stopping).</summary>
    [JsonPropertyName("outputs")]
    public long Outputs { get; init; }

    [JsonPropertyName("duplicates")]
    public long Duplicates { get; init; }

    [JsonPropertyName("cpu_us_per_message")]
    public double? CpuMicrosecondsPerMessage { get; init; }

    /// <summary>The kernel's peak resident set (VmHWM) of the system's process over its whole life.</summary>
    [JsonPropertyName("kernel_peak_mb")]
    public double KernelPeakMegabytes { get; init; }

    [JsonPropertyName("wall_s")]
    public double WallSeconds { get; init; }

    /// <summary>Idle only: CPU seconds per wall second.</summary>
    [JsonPropertyName("cpu_fraction")]
    public double? CpuFraction { get; init; }

    /// <summary>Idle only: the same without the JIT's background thread (a one-time tier-up of periodic code).</summary>
    [JsonPropertyName("cpu_fraction_steady")]
    public double? SteadyCpuFraction { get; init; }

    /// <summary>Idle only: context switches of all the process's threads per second.</summary>
    [JsonPropertyName("wakeups_per_s")]
    public double? WakeupsPerSecond { get; init; }

    /// <summary>Voluntary context switches (threads going to sleep, each later woken) per processed message.</summary>
    [JsonPropertyName("wakeups_per_message")]
    public double? WakeUpsPerMessage { get; init; }

    /// <summary>Managed bytes allocated per processed message (the whole process, during the measured window).</summary>
    [JsonPropertyName("allocated_bytes_per_message")]
    public double? AllocatedBytesPerMessage { get; init; }

    /// <summary>Garbage collections during the measured window.</summary>
    [JsonPropertyName("gc_count")]
    public int Collections { get; init; }

    /// <summary>
    /// CPU time per message at steady state: over the messages acknowledged between 20% and 90% of the target (a run
    /// without a target: from 1 s after its first read to its end), so without process start, group join, JIT and the
    /// drain of the last runs. <see cref="CpuMicrosecondsPerMessage"/> is the whole run's.
    /// </summary>
    [JsonPropertyName("steady_cpu_us_per_message")]
    public double? SteadyCpuMicrosecondsPerMessage { get; init; }

    /// <summary>Of <see cref="SteadyCpuMicrosecondsPerMessage"/>, what the runtime's tiered compilation used, in µs (median).</summary>
    [JsonPropertyName("steady_jit_us_per_message")]
    public double? SteadyJitMicrosecondsPerMessage { get; init; }

    /// <summary>Managed bytes allocated per message in the steady-state window.</summary>
    [JsonPropertyName("steady_allocated_bytes_per_message")]
    public double? SteadyAllocatedBytesPerMessage { get; init; }

    /// <summary>Voluntary context switches per message in the steady-state window.</summary>
    [JsonPropertyName("steady_wakeups_per_message")]
    public double? SteadyWakeUpsPerMessage { get; init; }

    /// <summary>Messages per second in the steady-state window.</summary>
    [JsonPropertyName("steady_throughput_per_s")]
    public double? SteadyThroughputPerSecond { get; init; }

    /// <summary>Why the runs ended: target (every message), budget (time), idle.</summary>
    [JsonPropertyName("end_reason")]
    public string EndReason { get; init; } = string.Empty;

    [JsonPropertyName("runs")]
    public int Runs { get; init; }

    [JsonPropertyName("throughput_runs")]
    public IReadOnlyList<double> ThroughputRuns { get; init; } = [];

    /// <summary>End-to-end p99.9 (produce to output; for open-loop workloads, from the real produce time).</summary>
    [JsonPropertyName("p999_ms")]
    public double? P999Milliseconds { get; init; }

    /// <summary>Read-to-output p99.9.</summary>
    [JsonPropertyName("service_p999_ms")]
    public double? ServiceP999Milliseconds { get; init; }

    /// <summary>
    /// End-to-end percentiles of the outputs read inside the steady window (messages 20–90 % of the target, as for
    /// the steady CPU): the run's percentiles without its start (the backlog of a late first fetch, JIT, joins).
    /// </summary>
    [JsonPropertyName("steady_p50_ms")]
    public double? SteadyP50Milliseconds { get; init; }

    [JsonPropertyName("steady_p99_ms")]
    public double? SteadyP99Milliseconds { get; init; }

    [JsonPropertyName("steady_p999_ms")]
    public double? SteadyP999Milliseconds { get; init; }

    /// <summary>Open loop only: the rate the parent produced at while the system ran.</summary>
    [JsonPropertyName("rate_per_s")]
    public double? RatePerSecond { get; init; }

    /// <summary>Key-order workloads: distinct message keys.</summary>
    [JsonPropertyName("keys")]
    public int? Keys { get; init; }

    /// <summary>Scale-out: instances in the consumer group (processes); 1 elsewhere.</summary>
    [JsonPropertyName("instances")]
    public int Instances { get; init; } = 1;

    /// <summary>Meshinery ordered its runs by key.</summary>
    [JsonPropertyName("order_by_key")]
    public bool OrderByKey { get; init; }

    /// <summary>Priority workloads: high-priority messages trickled in after the backlog.</summary>
    [JsonPropertyName("high_priority_messages")]
    public long? HighPriorityMessages { get; init; }

    /// <summary>Priority workloads: Meshinery ranked the trickle high (<c>WithPriority</c>).</summary>
    [JsonPropertyName("priority_lanes")]
    public bool PriorityLanes { get; init; }

    /// <summary>Priority workloads: read-to-output latency of the high-priority messages.</summary>
    [JsonPropertyName("high_p50_ms")]
    public double? HighPriorityP50Milliseconds { get; init; }

    [JsonPropertyName("high_p99_ms")]
    public double? HighPriorityP99Milliseconds { get; init; }

    [JsonPropertyName("high_max_ms")]
    public double? HighPriorityMaxMilliseconds { get; init; }

    /// <summary>Priority workloads: read-to-output latency of the normal backlog.</summary>
    [JsonPropertyName("normal_p50_ms")]
    public double? NormalP50Milliseconds { get; init; }

    [JsonPropertyName("normal_p99_ms")]
    public double? NormalP99Milliseconds { get; init; }

    [JsonPropertyName("errors")]
    public IReadOnlyList<string> Errors { get; init; } = [];
}
