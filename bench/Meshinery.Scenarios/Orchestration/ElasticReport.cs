using System.Globalization;
using Meshinery.Scenarios.Measurement;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>The time series of an elastic run (<see cref="ElasticPlan"/>), printed after the run.</summary>
internal static class ElasticReport
{
    public static void Print(string label, Workload workload, IReadOnlyList<SeriesSample> series, TextWriter writer)
    {
        writer.WriteLine();
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Elastic pool over time ({label}: blocking L = {workload.LatencyMs} ms, WithWorkerThreads({workload.ElasticMinWorkers}, {workload.Concurrency}, {workload.ElasticIdleSeconds} s); load steps {string.Join(" → ", workload.LoadSteps!.Select(s => $"{s.RatePerSecond:N0}/s for {s.Seconds:N0} s"))}):"));
        writer.WriteLine("| t s | workers | throughput/s | process threads | acked |");
        writer.WriteLine("| ---: | ---: | ---: | ---: | ---: |");
        for (var i = 0; i < series.Count; i++)
        {
            var sample = series[i];
            var rate = i == 0 ? 0 : (sample.Acked - series[i - 1].Acked) / (sample.Seconds - series[i - 1].Seconds);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {sample.Seconds:N1} | {sample.Workers} | {rate:N0} | {sample.Threads} | {sample.Acked:N0} |"));
        }
    }
}
