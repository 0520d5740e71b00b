using System.Globalization;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>The table of the priority workloads (<see cref="PriorityPlan"/>).</summary>
internal static class PriorityReport
{
    public static void Print(IReadOnlyList<ResultRow> rows, TextWriter writer)
    {
        var priority = rows.Where(r => r.HighPriorityMessages is not null && r.Runs > 0).OrderBy(r => r.PriorityLanes ? 0 : 1).ToList();
        if (priority.Count == 0)
        {
            return;
        }

        writer.WriteLine();
        writer.WriteLine("Priority (blocking L = 1 ms on 16 workers, 100,000 normal messages queued, a trickle of high-priority ones at 20/s; read to output):");
        writer.WriteLine("| workload | lanes | system | normal | high | throughput/s | high p50 ms | high p99 ms | high max ms | normal p50 ms | normal p99 ms |");
        writer.WriteLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in priority)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {row.Id} | {(row.PriorityLanes ? "WithPriority" : "none")} | {row.System} | {row.Messages:N0} | {row.HighPriorityMessages:N0} | {row.ThroughputPerSecond:N0} | {F(row.HighPriorityP50Milliseconds)} | {F(row.HighPriorityP99Milliseconds)} | {F(row.HighPriorityMaxMilliseconds)} | {F(row.NormalP50Milliseconds)} | {F(row.NormalP99Milliseconds)} |"));
        }
    }

    private static string F(double? value) => value is { } v ? v.ToString("N1", CultureInfo.InvariantCulture) : "–";
}
