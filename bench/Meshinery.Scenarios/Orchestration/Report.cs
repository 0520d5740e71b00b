using System.Globalization;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>The console table and the targets of the benchmark issue.</summary>
internal static class Report
{
    public static void PrintTable(IReadOnlyList<ResultRow> rows, TextWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine("| workload | system | P | L ms | C | messages | throughput/s | bound/s | ×bound | ×raw | p50 ms | p99 ms | CPU s | CPU µs/msg | steady CPU µs/msg | steady B/msg | peak MB |");
        writer.WriteLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows.Where(r => r.Workload != "idle"))
        {
            writer.WriteLine(Invariant(
                $"| {row.Id} | {row.System} | {row.Partitions} | {row.LatencyMs} | {row.Concurrency} | {row.Messages:N0} | {row.ThroughputPerSecond:N0} | {Format(row.BoundPerSecond, "N0")} | {Format(row.RatioToBound, "N2")} | {Format(row.RatioToRaw, "N2")} | {Format(row.P50Milliseconds, "N1")} | {Format(row.P99Milliseconds, "N1")} | {row.CpuSeconds:N2} | {Format(row.CpuMicrosecondsPerMessage, "N1")} | {Format(row.SteadyCpuMicrosecondsPerMessage, "N1")} | {Format(row.SteadyAllocatedBytesPerMessage, "N0")} | {row.PeakMegabytes:N0} |"));
        }

        var idle = rows.Where(r => r.Workload == "idle").ToList();
        if (idle.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("| idle | CPU (share of one core) | without JIT tier-up | wake-ups/s | peak MB |");
            writer.WriteLine("| --- | ---: | ---: | ---: | ---: |");
            foreach (var row in idle)
            {
                writer.WriteLine(Invariant($"| {row.System} | {Format(row.CpuFraction * 100, "N2")} % | {Format(row.SteadyCpuFraction * 100, "N2")} % | {Format(row.WakeupsPerSecond, "N0")} | {row.PeakMegabytes:N0} |"));
            }
        }

        foreach (var row in rows.Where(r => r.Errors.Count > 0))
        {
            foreach (var error in row.Errors)
            {
                writer.WriteLine($"error: {error}");
            }
        }
    }

    /// <summary>Prints each target of the issue as met or missed; returns whether all measured ones are met.</summary>
    public static bool PrintTargets(IReadOnlyList<ResultRow> rows, TextWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine("Targets (Meshinery):");
        var allMet = true;
        void Check(string name, bool? met, string detail)
        {
            if (met is null)
            {
                writer.WriteLine($"  [not measured] {name}");
                return;
            }

            allMet &= met.Value;
            writer.WriteLine($"  [{(met.Value ? "met" : "MISSED")}] {name}: {detail}");
        }

        foreach (var id in new[] { "blocking-p1-c200", "async-p1-c200", "blocking-p8-c200", "async-p8-c200" })
        {
            var row = Find(rows, id, SystemNames.Meshinery);
            Check(
                $"{id} at >= 95% of the Little's-law bound",
                row is null ? null : row.RatioToBound >= 0.95,
                Invariant($"{row?.ThroughputPerSecond:N0}/s = {row?.RatioToBound:P1} of {row?.BoundPerSecond:N0}/s"));
        }

        foreach (var id in new[] { "async-p1-c1000", "async-p1-c2000", "async-p1-c5000" })
        {
            var row = Find(rows, id, SystemNames.Meshinery);
            Check(
                $"{id} at >= 90% of the Little's-law bound (or its CPU-bound ceiling, see docs/benchmarks.md)",
                row is null ? null : row.RatioToBound >= 0.9,
                Invariant($"{row?.ThroughputPerSecond:N0}/s = {row?.RatioToBound:P1} of {row?.BoundPerSecond:N0}/s, steady CPU {row?.SteadyCpuMicrosecondsPerMessage:N1} µs/msg"));
        }

        foreach (var mesh in rows.Where(r => r.System == SystemNames.Meshinery && r.Kind is "blocking" or "async" && r.Workload != "flood" && r.Runs > 0))
        {
            var peer = Find(rows, mesh.Id, SystemNames.KeyHashWorkers);
            Check(
                $"{mesh.Id}: steady-state CPU per message <= the key-hash workers'",
                mesh.SteadyCpuMicrosecondsPerMessage is { } m && peer?.SteadyCpuMicrosecondsPerMessage is { } k ? m <= k : null,
                Invariant($"{mesh.SteadyCpuMicrosecondsPerMessage:N1} vs {peer?.SteadyCpuMicrosecondsPerMessage:N1} µs/msg"));
        }

        foreach (var id in new[] { "noop-p1", "noop-p8" })
        {
            var row = Find(rows, id, SystemNames.Meshinery);
            var raw = Find(rows, id, SystemNames.RawLoop);
            Check($"{id} at >= 0.95 of the raw loop", row is null ? null : row.RatioToRaw >= 0.95, Invariant($"{row?.ThroughputPerSecond:N0}/s = {row?.RatioToRaw:N2} × raw"));
            Check(
                $"{id}: steady-state CPU per message <= 1.5 × the raw loop's",
                row?.SteadyCpuMicrosecondsPerMessage is { } m && raw?.SteadyCpuMicrosecondsPerMessage is { } r ? m <= 1.5 * r : null,
                Invariant($"{row?.SteadyCpuMicrosecondsPerMessage:N1} vs {raw?.SteadyCpuMicrosecondsPerMessage:N1} µs/msg"));
        }

        var floods = rows.Where(r => r.Workload == "flood" && r.System == SystemNames.Meshinery && r.PeakMegabytes > 0).OrderBy(r => r.Messages).ToList();
        if (floods.Count >= 2)
        {
            var ratio = floods[^1].PeakMegabytes / floods[0].PeakMegabytes;
            Check(
                "flood: peak working set independent of the backlog (within 10%)",
                ratio <= 1.10,
                Invariant($"{floods[0].PeakMegabytes:N0} MB at {floods[0].Messages:N0} vs {floods[^1].PeakMegabytes:N0} MB at {floods[^1].Messages:N0} (×{ratio:N2})"));
        }
        else
        {
            Check("flood: peak working set independent of the backlog", null, string.Empty);
        }

        foreach (var system in new[] { SystemNames.Meshinery, SystemNames.MeshineryInMemory })
        {
            var row = Find(rows, "idle", system);
            Check(
                $"idle {system}: ~0 CPU (< 1% of a core, without the JIT's one-time tier-up)",
                row?.SteadyCpuFraction is { } f ? f < 0.01 : null,
                Invariant($"{row?.SteadyCpuFraction:P2} of a core ({row?.CpuFraction:P2} with the JIT), {row?.WakeupsPerSecond:N0} wake-ups/s"));
        }

        return allMet;
    }

    private static ResultRow? Find(IReadOnlyList<ResultRow> rows, string id, string system) =>
        rows.FirstOrDefault(r => r.Id == id && r.System == system && r.Runs > 0);

    private static string Format(double? value, string format) =>
        value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
