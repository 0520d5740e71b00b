using System.Globalization;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>The tables of the open-loop and key-order workloads (<see cref="ScenarioPlan"/>), after the main table.</summary>
internal static class ScenarioReport
{
    public static void Print(IReadOnlyList<ResultRow> rows, TextWriter writer)
    {
        var open = rows.Where(r => r.RatePerSecond is not null && r.Workload != "elastic-step" && r.Runs > 0).OrderBy(r => r.RatePerSecond).ThenBy(r => r.System, StringComparer.Ordinal).ToList();
        if (open.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Latency under a steady load (open loop; end-to-end = produce to output, service = read to output):");
            writer.WriteLine("| workload | system | load | rate/s | throughput/s | e2e p50 | e2e p99 | e2e p99.9 | service p50 | service p99 | service p99.9 | steady e2e p50 | steady e2e p99 | steady e2e p99.9 | dup | CPU µs/msg |");
            writer.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in open)
            {
                writer.WriteLine(Invariant(
                    $"| {row.Id} | {row.System} | {row.RatePerSecond / row.BoundPerSecond:P0} | {row.RatePerSecond:N0} | {row.ThroughputPerSecond:N0} | {F(row.P50Milliseconds)} | {F(row.P99Milliseconds)} | {F(row.P999Milliseconds)} | {F(row.ServiceP50Milliseconds)} | {F(row.ServiceP99Milliseconds)} | {F(row.ServiceP999Milliseconds)} | {F(row.SteadyP50Milliseconds)} | {F(row.SteadyP99Milliseconds)} | {F(row.SteadyP999Milliseconds)} | {row.Duplicates} | {F(row.CpuMicrosecondsPerMessage)} |"));
            }

            foreach (var row in open.Where(r => r.RatePerSecond / r.BoundPerSecond is > 0.45 and < 0.55))
            {
                var limit = row.LatencyMs + 10;
                var met = row.P99Milliseconds <= limit;
                writer.WriteLine(Invariant(
                    $"  [{(met ? "met" : "MISSED")}] {row.System}: end-to-end p99 <= L + 10 ms = {limit} ms at 50% load: {F(row.P99Milliseconds)} ms (service p99 {F(row.ServiceP99Milliseconds)} ms; in the steady window {F(row.SteadyP99Milliseconds)} ms)"));
            }
        }

        var scale = rows.Where(r => r.Workload == "scale-out" && r.Runs > 0).OrderBy(r => r.System, StringComparer.Ordinal).ThenBy(r => r.Instances).ToList();
        if (scale.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Scale-out (one consumer group, 12 partitions, async L = 50 ms, C = 200 per instance):");
            writer.WriteLine("| system | instances | messages | outputs | duplicates | throughput/s | ×1 instance | bound/s | CPU s (all) | CPU µs/msg |");
            writer.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in scale)
            {
                var one = scale.Find(r => r.System == row.System && r.Instances == 1);
                var ratio = one is { ThroughputPerSecond: > 0 } ? row.ThroughputPerSecond / one.ThroughputPerSecond : (double?)null;
                writer.WriteLine(Invariant(
                    $"| {row.System} | {row.Instances} | {row.Messages:N0} | {row.Outputs:N0} | {row.Duplicates:N0} | {row.ThroughputPerSecond:N0} | {F(ratio, "N2")} | {row.BoundPerSecond:N0} | {row.CpuSeconds:N2} | {F(row.CpuMicrosecondsPerMessage)} |"));
            }
        }

        var keyed = rows.Where(r => r.Keys is not null && r.Runs > 0).OrderBy(r => r.Keys).ThenBy(r => r.OrderByKey ? 0 : 1).ThenBy(r => r.System, StringComparer.Ordinal).ToList();
        if (keyed.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Key order on one partition (L = 50 ms, C = 200; bound min(C, keys) / L when ordered by key):");
            writer.WriteLine("| keys | ordering | system | messages | throughput/s | bound/s | ×bound | p50 ms | p99 ms | dup | CPU µs/msg |");
            writer.WriteLine("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var row in keyed)
            {
                var ordering = row.OrderByKey || row.System == SystemNames.KeyHashWorkers ? "by key" : "unordered";
                writer.WriteLine(Invariant(
                    $"| {row.Keys:N0} | {ordering} | {row.System} | {row.Messages:N0} | {row.ThroughputPerSecond:N0} | {row.BoundPerSecond:N0} | {F(row.RatioToBound, "N2")} | {F(row.P50Milliseconds)} | {F(row.P99Milliseconds)} | {row.Duplicates} | {F(row.CpuMicrosecondsPerMessage)} |"));
            }
        }
    }

    private static string F(double? value, string format = "N1") =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
