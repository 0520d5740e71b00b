using System.Diagnostics;
using System.Globalization;
using Meshinery.Scenarios.Messages;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>The figures of one run of one system, computed from its report and its output topic.</summary>
internal sealed record RunMeasurement
{
    public double Throughput { get; init; }

    public double? P50 { get; init; }

    public double? P99 { get; init; }

    public double? P999 { get; init; }

    public double? ServiceP999 { get; init; }

    public double? ServiceP50 { get; init; }

    public double? ServiceP99 { get; init; }

    /// <summary>End-to-end percentiles of the outputs read inside the steady window (see <c>SteadyReport</c>).</summary>
    public double? SteadyP50 { get; init; }

    public double? SteadyP99 { get; init; }

    public double? SteadyP999 { get; init; }

    public double CpuSeconds { get; init; }

    public double PeakMegabytes { get; init; }

    public double KernelPeakMegabytes { get; init; }

    public double WallSeconds { get; init; }

    public long Processed { get; init; }

    public long Outputs { get; init; }

    public long Duplicates { get; init; }

    public double? CpuFraction { get; init; }

    public double? SteadyCpuFraction { get; init; }

    public double? WakeupsPerSecond { get; init; }

    public double? WakeUpsPerMessage { get; init; }

    public double? AllocatedBytesPerMessage { get; init; }

    public int Collections { get; init; }

    /// <summary>CPU per message in the steady-state window (after warm-up, before the tail), in µs.</summary>
    public double? SteadyCpuMicrosecondsPerMessage { get; init; }

    /// <summary>Of <see cref="SteadyCpuMicrosecondsPerMessage"/>, what the runtime's tiered compilation used, in µs.</summary>
    public double? SteadyJitMicrosecondsPerMessage { get; init; }

    public double? SteadyAllocatedBytesPerMessage { get; init; }

    public double? SteadyWakeUpsPerMessage { get; init; }

    /// <summary>Messages per second in the steady-state window.</summary>
    public double? SteadyThroughput { get; init; }

    public string EndReason { get; init; } = string.Empty;

    /// <summary>Priority workloads (see <see cref="PriorityMeasurement"/>): outputs of the high-priority trickle.</summary>
    public long HighPriorityOutputs { get; init; }

    public double? HighPriorityP50 { get; init; }

    public double? HighPriorityP99 { get; init; }

    public double? HighPriorityMax { get; init; }

    public double? NormalP50 { get; init; }

    public double? NormalP99 { get; init; }

    public string? Error { get; init; }

    public static RunMeasurement Failed(string error) => new() { Error = error };

    public static RunMeasurement From(Workload workload, string system, RunReport report, List<OutputRecord> outputs)
    {
        const double MegaByte = 1024.0 * 1024.0;
        var toMilliseconds = 1000.0 / Stopwatch.Frequency;
        var window = (report.LastAckStamp - report.FirstReadStamp) / (double)Stopwatch.Frequency;
        var endToEnd = new double[outputs.Count];
        var service = new double[outputs.Count];
        var seen = new HashSet<long>();
        long duplicates = 0;
        for (var i = 0; i < outputs.Count; i++)
        {
            var record = outputs[i];

            // A backlog message counts as produced when the system started reading: every system then starts alike,
            // whenever its turn came after the seeding.
            endToEnd[i] = (record.OutputStamp - Math.Max(record.ProducedStamp, report.FirstReadStamp)) * toMilliseconds;
            service[i] = (record.OutputStamp - record.ReadStamp) * toMilliseconds;
            if (!seen.Add(record.Sequence))
            {
                duplicates++;
            }
        }

        if (duplicates > 0)
        {
            DescribeDuplicates(system, outputs);
        }

        var steady = report.Steady is { } steadyWindow
            ? endToEnd.Where((_, i) => outputs[i].ReadStamp >= steadyWindow.OpenStamp && outputs[i].ReadStamp <= steadyWindow.CloseStamp).Order().ToArray()
            : [];
        Array.Sort(endToEnd);
        Array.Sort(service);
        string? error = report.Failed > 0 ? $"{system}: {report.Failed} outputs failed ({report.FirstError})" : null;
        if (workload.Kind != WorkKind.Idle && system != SystemNames.ConsumeOnly && outputs.Count < report.Acked)
        {
            error = $"{system}: the output topic holds {outputs.Count} messages, fewer than the {report.Acked} acknowledged";
        }

        if (workload.Kind != WorkKind.Idle && report.EndReason == "budget" && workload.Target != long.MaxValue && system is not (SystemNames.Sequential or SystemNames.Streamiz))
        {
            error ??= $"{system}: processed only {report.Acked} of {workload.Target} messages within the budget";
        }

        return new RunMeasurement
        {
            Throughput = report.Acked > 0 && window > 0 ? report.Acked / window : 0,
            P50 = Percentile(endToEnd, 0.50),
            P99 = Percentile(endToEnd, 0.99),
            P999 = Percentile(endToEnd, 0.999),
            ServiceP999 = Percentile(service, 0.999),
            ServiceP50 = Percentile(service, 0.50),
            ServiceP99 = Percentile(service, 0.99),
            SteadyP50 = Percentile(steady, 0.50),
            SteadyP99 = Percentile(steady, 0.99),
            SteadyP999 = Percentile(steady, 0.999),
            CpuSeconds = report.CpuSeconds,
            PeakMegabytes = report.PeakWorkingSetBytes / MegaByte,
            KernelPeakMegabytes = report.KernelPeakResidentBytes / MegaByte,
            WallSeconds = report.WallSeconds,
            Processed = report.Acked,
            Outputs = outputs.Count,
            Duplicates = duplicates,
            CpuFraction = workload.Kind == WorkKind.Idle ? report.CpuSeconds / report.WallSeconds : null,
            SteadyCpuFraction = workload.Kind == WorkKind.Idle ? Math.Max(0, report.CpuSeconds - report.JitCpuSeconds) / report.WallSeconds : null,
            WakeupsPerSecond = workload.Kind == WorkKind.Idle ? report.WakeUps / report.WallSeconds : null,
            WakeUpsPerMessage = report.Acked > 0 ? (double)report.WakeUps / report.Acked : null,
            AllocatedBytesPerMessage = report.Acked > 0 ? (double)report.AllocatedBytes / report.Acked : null,
            Collections = report.Collections,
            SteadyCpuMicrosecondsPerMessage = report.Steady is { Messages: > 0 } w ? w.CpuSeconds / w.Messages * 1e6 : null,
            SteadyJitMicrosecondsPerMessage = report.Steady is { Messages: > 0 } j ? j.JitCpuSeconds / j.Messages * 1e6 : null,
            SteadyAllocatedBytesPerMessage = report.Steady is { Messages: > 0 } a ? (double)a.AllocatedBytes / a.Messages : null,
            SteadyWakeUpsPerMessage = report.Steady is { Messages: > 0 } u ? (double)u.WakeUps / u.Messages : null,
            SteadyThroughput = report.Steady is { Messages: > 0, Seconds: > 0 } t ? t.Messages / t.Seconds : null,
            EndReason = report.EndReason,
            Error = error,
        };
    }

    /// <summary>The medians of the runs, field by field, as a result row.</summary>
    public static ResultRow Aggregate(Workload workload, string system, List<RunMeasurement> runs)
    {
        var ok = runs.Where(r => r.Error is null || r.Processed > 0).ToList();
        var bound = workload.Bound(system);
        var throughput = Median(ok.Select(r => r.Throughput));
        var processed = Median(ok.Select(r => (double)r.Processed));
        var cpu = Median(ok.Select(r => r.CpuSeconds));
        return new ResultRow
        {
            System = system,
            Workload = workload.Name,
            Messages = workload.Kind == WorkKind.Idle ? 0 : workload.Seeded,
            Partitions = workload.Partitions,
            LatencyMs = workload.LatencyMs,
            Concurrency = system == SystemNames.Sequential ? workload.Partitions : workload.Concurrency,
            ThroughputPerSecond = Round(throughput, 1),
            BoundPerSecond = bound,
            P50Milliseconds = Round(Median(ok.Select(r => r.P50)), 2),
            P99Milliseconds = Round(Median(ok.Select(r => r.P99)), 2),
            CpuSeconds = Round(cpu, 3),
            PeakMegabytes = Round(Median(ok.Select(r => r.PeakMegabytes)), 1),
            Id = workload.Id,
            WorkloadConcurrency = workload.Concurrency,
            Kind = workload.Kind.ToString().ToLowerInvariant(),
            RatioToBound = bound is { } b && throughput > 0 ? Round(throughput / b, 3) : null,
            P999Milliseconds = Round(Median(ok.Select(r => r.P999)), 2),
            ServiceP999Milliseconds = Round(Median(ok.Select(r => r.ServiceP999)), 2),
            RatePerSecond = workload.RatePerSecond > 0 ? workload.RatePerSecond : null,
            Keys = workload.Keys > 0 ? workload.Keys : null,
            OrderByKey = workload.OrderByKey,
            HighPriorityMessages = workload.HighPriorityMessages > 0 ? workload.HighPriorityMessages : null,
            PriorityLanes = workload.PriorityLanes,
            HighPriorityP50Milliseconds = Round(Median(ok.Select(r => r.HighPriorityP50)), 2),
            HighPriorityP99Milliseconds = Round(Median(ok.Select(r => r.HighPriorityP99)), 2),
            HighPriorityMaxMilliseconds = Round(Median(ok.Select(r => r.HighPriorityMax)), 2),
            NormalP50Milliseconds = Round(Median(ok.Select(r => r.NormalP50)), 2),
            NormalP99Milliseconds = Round(Median(ok.Select(r => r.NormalP99)), 2),
            Instances = workload.Instances,
            ServiceP50Milliseconds = Round(Median(ok.Select(r => r.ServiceP50)), 2),
            ServiceP99Milliseconds = Round(Median(ok.Select(r => r.ServiceP99)), 2),
            SteadyP50Milliseconds = Round(Median(ok.Select(r => r.SteadyP50)), 2),
            SteadyP99Milliseconds = Round(Median(ok.Select(r => r.SteadyP99)), 2),
            SteadyP999Milliseconds = Round(Median(ok.Select(r => r.SteadyP999)), 2),
            Processed = (long)processed,
            Outputs = (long)Median(ok.Select(r => (double)r.Outputs)),
            Duplicates = ok.Count == 0 ? 0 : ok.Max(r => r.Duplicates),
            CpuMicrosecondsPerMessage = processed > 0 && workload.Kind != WorkKind.Idle ? Round(cpu / processed * 1e6, 1) : null,
            KernelPeakMegabytes = Round(Median(ok.Select(r => r.KernelPeakMegabytes)), 1),
            WallSeconds = Round(Median(ok.Select(r => r.WallSeconds)), 2),
            CpuFraction = Round(Median(ok.Select(r => r.CpuFraction)), 4),
            SteadyCpuFraction = Round(Median(ok.Select(r => r.SteadyCpuFraction)), 4),
            WakeupsPerSecond = Round(Median(ok.Select(r => r.WakeupsPerSecond)), 1),
            WakeUpsPerMessage = Round(Median(ok.Select(r => r.WakeUpsPerMessage)), 3),
            AllocatedBytesPerMessage = Round(Median(ok.Select(r => r.AllocatedBytesPerMessage)), 0),
            Collections = (int)Median(ok.Select(r => (double)r.Collections)),
            SteadyCpuMicrosecondsPerMessage = Round(Median(ok.Select(r => r.SteadyCpuMicrosecondsPerMessage)), 1),
            SteadyJitMicrosecondsPerMessage = Round(Median(ok.Select(r => r.SteadyJitMicrosecondsPerMessage)), 1),
            SteadyAllocatedBytesPerMessage = Round(Median(ok.Select(r => r.SteadyAllocatedBytesPerMessage)), 0),
            SteadyWakeUpsPerMessage = Round(Median(ok.Select(r => r.SteadyWakeUpsPerMessage)), 3),
            SteadyThroughputPerSecond = Round(Median(ok.Select(r => r.SteadyThroughput)), 1),
            EndReason = string.Join('/', ok.Select(r => r.EndReason).Distinct()),
            Runs = ok.Count,
            ThroughputRuns = [.. ok.Select(r => Round(r.Throughput, 1))],
            Errors = [.. runs.Where(r => r.Error is not null).Select(r => r.Error!)],
        };
    }

    public string Describe() => Error ?? (CpuFraction is { } fraction
        ? string.Create(CultureInfo.InvariantCulture, $"idle: {fraction:P2} of a core ({SteadyCpuFraction:P2} without the JIT's tier-up), {WakeupsPerSecond:N0} wake-ups/s, peak {PeakMegabytes:N0} MB")
        : string.Create(
            CultureInfo.InvariantCulture,
            $"{Throughput,9:N0}/s  p50 {P50,8:N1} ms  p99 {P99,8:N1} ms  cpu {CpuSeconds,6:N2} s  {WakeUpsPerMessage,6:N2} wake-ups/msg  {AllocatedBytesPerMessage,7:N0} B/msg  steady {SteadyCpuMicrosecondsPerMessage,6:N1} µs/msg (JIT {SteadyJitMicrosecondsPerMessage,4:N1}) {SteadyAllocatedBytesPerMessage,6:N0} B/msg  peak {PeakMegabytes,5:N0} MB  ({Processed:N0} acked, {EndReason})"));

    /// <summary>
    /// Tells, on stderr, whether duplicates are inputs read twice (their copies carry different read stamps) or one
    /// read written twice (same read stamp: a write repeated by the system, or by its client if the output stamps are
    /// equal too), and which sequence numbers they are: the two causes live in different places.
    /// </summary>
    private static void DescribeDuplicates(string system, List<OutputRecord> outputs)
    {
        var readTwice = 0;
        var writtenTwice = 0;
        var identical = 0;
        var sequences = new List<long>();
        foreach (var group in outputs.GroupBy(r => r.Sequence).Where(g => g.Count() > 1))
        {
            sequences.Add(group.Key);
            var copies = group.ToList();
            for (var i = 1; i < copies.Count; i++)
            {
                if (copies[i].ReadStamp != copies[0].ReadStamp)
                {
                    readTwice++;
                }
                else if (copies[i].OutputStamp != copies[0].OutputStamp)
                {
                    writtenTwice++;
                }
                else
                {
                    identical++;
                }
            }
        }

        sequences.Sort();
        Console.Error.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{system}: duplicates: {readTwice} read twice, {writtenTwice} one read written twice, {identical} byte-identical copies; sequences {sequences.FirstOrDefault()}..{sequences.LastOrDefault()} ({sequences.Count}): {string.Join(',', sequences.Take(40))}"));
    }

    private static double? Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Median(IEnumerable<double> values) => Median(values.Select(v => (double?)v)) ?? 0;

    private static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.OfType<double>().Order().ToArray();
        if (sorted.Length == 0)
        {
            return null;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    private static double Round(double value, int digits) => Math.Round(value, digits);

    private static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;
}
