using System.Diagnostics;
using Meshinery.Scenarios.Messages;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// Priority workloads: the read-to-output latency of the high-priority trickle (sequence numbers from the backlog's
/// size on) and of the normal backlog, apart.
/// </summary>
internal static class PriorityMeasurement
{
    public static RunMeasurement Apply(RunMeasurement measurement, Workload workload, List<OutputRecord> outputs)
    {
        var toMilliseconds = 1000.0 / Stopwatch.Frequency;
        var high = outputs.Where(o => o.Sequence >= workload.Seeded).Select(o => (o.OutputStamp - o.ReadStamp) * toMilliseconds).Order().ToArray();
        var normal = outputs.Where(o => o.Sequence < workload.Seeded).Select(o => (o.OutputStamp - o.ReadStamp) * toMilliseconds).Order().ToArray();
        var result = measurement with
        {
            HighPriorityOutputs = high.Length,
            HighPriorityP50 = Percentile(high, 0.50),
            HighPriorityP99 = Percentile(high, 0.99),
            HighPriorityMax = high.Length > 0 ? high[^1] : null,
            NormalP50 = Percentile(normal, 0.50),
            NormalP99 = Percentile(normal, 0.99),
        };
        return high.Length < workload.HighPriorityMessages
            ? result with { Error = result.Error ?? $"{high.Length} of {workload.HighPriorityMessages} high-priority messages have an output" }
            : result;
    }

    private static double? Percentile(double[] sorted, double quantile) =>
        sorted.Length == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
