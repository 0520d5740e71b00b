namespace Meshinery.Scenarios.Orchestration;

/// <summary>One phase of a stepped open-loop load: this rate for this long.</summary>
internal readonly record struct LoadStep(double RatePerSecond, double Seconds);

/// <summary>
/// The elastic workload of issue 9: blocking work on an elastic pool (<c>WithWorkerThreads(min, max, idle)</c>) through
/// an open-loop load step from 10 % to 100 % of the pool's capacity max / L and back, sampled every 0.5 s. Run it alone
/// with <c>--only elastic-</c>.
/// </summary>
internal static class ElasticPlan
{
    private const int Latency = 10;
    private const int MinWorkers = 2;
    private const int MaxWorkers = 32;

    public static IEnumerable<Workload> Create(bool quick)
    {
        var capacity = MaxWorkers * 1000.0 / Latency;
        // The last phase is long: the pool shrinks one idle thread per idle timeout at best, after the peak's backlog.
        var phase = quick ? 4.0 : 8.0;
        LoadStep[] steps = [new(capacity * 0.1, phase), new(capacity, phase), new(capacity * 0.1, phase * 2.5)];
        var messages = (long)steps.Sum(s => s.RatePerSecond * s.Seconds);
        yield return new Workload
        {
            Id = "elastic-step",
            Name = "elastic-step",
            Kind = WorkKind.Blocking,
            Partitions = 1,
            LatencyMs = Latency,
            Concurrency = MaxWorkers,
            Seeded = 0,
            Target = messages,
            RatePerSecond = capacity,
            LoadSteps = steps,
            ElasticMinWorkers = MinWorkers,
            ElasticIdleSeconds = 1,
            SampleSeconds = 0.5,
            BudgetSeconds = steps.Sum(s => s.Seconds) + 20,
            MaxPendingPerPartition = 200_000,
            Systems = [SystemNames.Meshinery],
        };
    }
}
