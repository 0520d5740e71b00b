using System.Globalization;
using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>
/// Steady load for a bounded time (default 30 minutes): the tool produces 400 orders/s while one instance processes
/// them, samples its resident memory, threads and file descriptors every 5 s, then stops producing, waits for the last
/// outputs and stops the instance with SIGTERM. Runs only when named (<c>--scenario soak</c>).
/// </summary>
internal sealed class SoakScenario(TimeSpan duration) : Scenario
{
    private const int PerTick = 40;
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_sampleEvery = TimeSpan.FromSeconds(5);

    public override string Name => "soak";

    public override string Description => string.Create(CultureInfo.InvariantCulture, $"1 instance, 8 partitions, 400 orders/s for {duration.TotalMinutes:0.#} min; memory, threads, handles sampled every 5 s");

    public override bool RunsByDefault => false;

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        var instance = run.StartInstance("a");
        var samples = new List<(TimeSpan At, long RssKb, int Threads, int Handles)>();
        using var timer = new PeriodicTimer(s_tick);
        var until = run.Clock.Now + duration;
        var nextSample = run.Clock.Now + s_sampleEvery;
        while (run.Clock.Now < until && await timer.WaitForNextTickAsync().ConfigureAwait(false) && !instance.HasExited)
        {
            await run.Seeder.ProduceAsync(PerTick).ConfigureAwait(false);
            if (run.Clock.Now >= nextSample && instance.Resources() is { } r)
            {
                samples.Add((run.Clock.Now, r.RssKb, r.Threads, r.Handles));
                nextSample += s_sampleEvery;
            }
        }

        var throughput = ThroughputSoFar(run);
        var producingEnded = run.Clock.Now;
        run.Note($"stopped producing after {run.Seeder.Produced.Count} orders");
        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);

        // Warm-up: the first sample after 10 % of the run (or the first sample); flat = the last quarter's maximum
        // stays within 10 % (+5) of it for threads and handles, within 50 % for memory (the GC sizes its heap lazily).
        var warm = samples.FirstOrDefault(s => s.At >= duration / 10);
        var tail = samples.Where(s => s.At >= producingEnded - (duration / 4)).ToList();
        var recovery = new Dictionary<string, double?>
        {
            ["rss MB warm"] = samples.Count > 0 ? Math.Round(warm.RssKb / 1024.0, 1) : null,
            ["rss MB max of last quarter"] = tail.Count > 0 ? Math.Round(tail.Max(s => s.RssKb) / 1024.0, 1) : null,
            ["threads warm"] = samples.Count > 0 ? warm.Threads : null,
            ["threads max of last quarter"] = tail.Count > 0 ? tail.Max(s => s.Threads) : null,
            ["handles warm"] = samples.Count > 0 ? warm.Handles : null,
            ["handles max of last quarter"] = tail.Count > 0 ? tail.Max(s => s.Handles) : null,
            ["all outputs written"] = done ? 1 : 0,
        };
        var flat = tail.Count > 0 && samples.Count > 0
                   && tail.Max(s => s.Threads) <= (warm.Threads * 1.1) + 5
                   && tail.Max(s => s.Handles) <= (warm.Handles * 1.1) + 5
                   && tail.Max(s => s.RssKb) <= warm.RssKb * 1.5;
        var notes = new List<string>
        {
            $"{samples.Count} resource samples; flat (threads and handles within 10 % + 5, memory within 50 % of the warm sample): {(flat ? "yes" : "NO")}",
            string.Join(" ", samples.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.At.TotalSeconds:F0}s:{s.RssKb / 1024}MB/{s.Threads}t/{s.Handles}fd"))),
        };
        return await run.FinishAsync(Description, "none (steady load)", 0, throughput, recovery, notes: notes).ConfigureAwait(false);
    }
}
