using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Systems;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// The child side: runs one system for one workload in this process (so that its CPU time and working set are its
/// own), measures it and prints a <see cref="RunReport"/>. The spec arrives as the first line of standard input; the
/// parent keeps standard input open while it waits, so its end means the parent is gone and the child exits at once.
/// </summary>
internal static class ChildRunner
{
    private static readonly TimeSpan s_checkInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan s_firstReadTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync()
    {
        var line = await Console.In.ReadLineAsync().ConfigureAwait(false)
            ?? throw new InvalidOperationException("No run spec on standard input.");
        var spec = JsonSerializer.Deserialize<RunSpec>(line, Json.Options)
            ?? throw new InvalidOperationException("Empty run spec.");
        WatchParent();

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(spec.DeadlineSeconds));
        if (spec is { WarmupTopic: { } warmupTopic, WarmupOutputTopic: { } warmupOutput })
        {
            await WarmUpAsync(spec, warmupTopic, warmupOutput, deadline.Token).ConfigureAwait(false);
        }

        var probe = new RunProbe(spec.Target);
        var system = BenchSystem.Create(spec, probe);
        using var sampler = new ResourceSampler();
        sampler.Start();
        var showThreads = Environment.GetEnvironmentVariable("MESHINERY_BENCH_THREADS") == "1";
        var threadsAtStart = showThreads ? ResourceSampler.ThreadTimes() : null;
        var wakeUpsAtStart = ResourceSampler.WakeUps();
        var allocatedAtStart = GC.GetTotalAllocatedBytes();
        var collectionsAtStart = GC.CollectionCount(0);
        var cpuAtStart = ResourceSampler.CpuTime();
        var startedAt = Stopwatch.GetTimestamp();
        using var steady = new SteadyWindow(probe, spec.Target);
        if (spec.Kind != WorkKind.Idle)
        {
            steady.Start(); // not while idle: its sampling would be the only wake-ups measured
        }

        using var series = spec.SampleSeconds > 0 ? new TimeSeriesSampler(probe, TimeSpan.FromSeconds(spec.SampleSeconds)) : null;
        await system.StartAsync(deadline.Token).ConfigureAwait(false);
        series?.Start();
        if (spec.AnnounceReady)
        {
            while (!system.IsReady)
            {
                await Task.Delay(10, deadline.Token).ConfigureAwait(false);
            }

            Console.Out.WriteLine(RunReport.ReadyLine);
            Console.Out.Flush();
        }
        IdleMeasurement? idle = null;
        var endReason = "idle";
        if (spec.Kind == WorkKind.Idle)
        {
            idle = await MeasureIdleAsync(spec, system, sampler, deadline.Token).ConfigureAwait(false);
        }
        else
        {
            endReason = await WaitForEndAsync(spec, probe, startedAt, deadline.Token).ConfigureAwait(false);
        }

        var endedAt = Stopwatch.GetTimestamp();
        var samples = series is null ? null : await series.StopAsync().ConfigureAwait(false);
        var cpuAtEnd = ResourceSampler.CpuTime();
        var steadyReport = idle is null ? steady.Stop() : null;
        var wakeUps = idle?.WakeUps ?? ResourceSampler.WakeUps() - wakeUpsAtStart;
        var allocated = GC.GetTotalAllocatedBytes() - allocatedAtStart;
        if (threadsAtStart is not null && idle is null)
        {
            PrintThreads("run", threadsAtStart, ResourceSampler.ThreadTimes(), Stopwatch.GetElapsedTime(startedAt, endedAt));
        }

        var collections = GC.CollectionCount(0) - collectionsAtStart;
        sampler.Stop();
        var wall = idle?.Wall ?? Stopwatch.GetElapsedTime(startedAt, endedAt);
        var cpu = idle?.Cpu ?? cpuAtEnd - cpuAtStart;

        var stopStarted = Stopwatch.GetTimestamp();
        await system.StopAsync(deadline.Token).ConfigureAwait(false);
        var report = new RunReport
        {
            Acked = probe.Acked,
            Failed = probe.Failed,
            FirstError = probe.FirstError,
            FirstReadStamp = probe.FirstReadStamp,
            LastAckStamp = probe.LastAckStamp,
            EndReason = endReason,
            CpuSeconds = cpu.TotalSeconds,
            WallSeconds = wall.TotalSeconds,
            PeakWorkingSetBytes = sampler.PeakWorkingSet,
            KernelPeakResidentBytes = ResourceSampler.KernelPeakResidentSet(),
            WakeUps = wakeUps,
            JitCpuSeconds = idle?.JitCpu.TotalSeconds ?? 0,
            AllocatedBytes = allocated,
            Collections = collections,
            StopSeconds = Stopwatch.GetElapsedTime(stopStarted).TotalSeconds,
            Steady = steadyReport,
            Series = samples,
        };
        Console.Out.WriteLine(RunReport.Prefix + JsonSerializer.Serialize(report, Json.Compact));
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Runs the same system on the warm-up topic, then collects the garbage it left.</summary>
    private static async Task WarmUpAsync(RunSpec spec, string topic, string outputTopic, CancellationToken cancellationToken)
    {
        var warmup = spec with
        {
            InputTopic = topic,
            OutputTopic = outputTopic,
            GroupId = spec.GroupId + "-warmup",
            Target = spec.WarmupMessages,
            BudgetSeconds = 60,
        };
        var probe = new RunProbe(warmup.Target);
        var system = BenchSystem.Create(warmup, probe);
        await system.StartAsync(cancellationToken).ConfigureAwait(false);
        var end = await WaitForEndAsync(warmup, probe, Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        await system.StopAsync(cancellationToken).ConfigureAwait(false);
        if (end != "target")
        {
            throw new InvalidOperationException($"The warm-up processed only {probe.Acked} of {warmup.Target} messages.");
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Waits until the target is reached, or the budget since the first read is spent.</summary>
    private static async Task<string> WaitForEndAsync(RunSpec spec, RunProbe probe, long startedAt, CancellationToken cancellationToken)
    {
        var budget = TimeSpan.FromSeconds(spec.BudgetSeconds);
        while (true)
        {
            if (probe.TargetReached.IsCompleted)
            {
                return "target";
            }

            var firstRead = probe.FirstReadStamp;
            if (firstRead == 0 && Stopwatch.GetElapsedTime(startedAt) > s_firstReadTimeout)
            {
                throw new TimeoutException($"{spec.System} read nothing from {spec.InputTopic} within {s_firstReadTimeout.TotalSeconds} s.");
            }

            if (firstRead != 0 && Stopwatch.GetElapsedTime(firstRead) >= budget)
            {
                return "budget";
            }

            // Scale-out: an instance cannot know its share (the group decides it), so it ends when its work has stopped.
            if (spec.QuietSeconds > 0 && probe.LastAckStamp is var lastAck and not 0 && Stopwatch.GetElapsedTime(lastAck).TotalSeconds >= spec.QuietSeconds)
            {
                return "quiet";
            }

            await Task.WhenAny(probe.TargetReached, Task.Delay(s_checkInterval, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Waits until the system is ready and settled, then measures CPU time and context switches over the idle window.</summary>
    private static async Task<IdleMeasurement> MeasureIdleAsync(RunSpec spec, BenchSystem system, ResourceSampler sampler, CancellationToken cancellationToken)
    {
        while (!system.IsReady)
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        // Settle (tiered compilation and the runtime's own start-up work end), and stop the harness's sampler: the
        // window must count the system's own threads only. Reading the switch counts costs CPU, so it brackets the
        // CPU readings instead of falling inside them.
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken).ConfigureAwait(false);
        sampler.Stop();
        var threadsBefore = ResourceSampler.ThreadTimes();
        var cpu = ResourceSampler.CpuTime();
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(spec.IdleSeconds), cancellationToken).ConfigureAwait(false);
        var wall = Stopwatch.GetElapsedTime(started);
        var used = ResourceSampler.CpuTime() - cpu;

        // The JIT's background thread is counted apart: it promotes periodic code (timer callbacks, idle loop turns)
        // once it has run 30 times, a one-time cost that a long-idle process no longer pays.
        var threadsAfter = ResourceSampler.ThreadTimes();

        // Summed per thread, not as the difference of two process totals: a thread that exits in the window (the
        // thread pool retires idle threads) takes its whole count with it, which made that difference negative.
        var wakeUps = threadsAfter.Sum(t => t.Value.WakeUps - threadsBefore.GetValueOrDefault(t.Key).WakeUps);
        var jitTicks = threadsAfter.Where(t => t.Value.Name.StartsWith(".NET Tiered", StringComparison.Ordinal))
            .Sum(t => t.Value.Ticks - threadsBefore.GetValueOrDefault(t.Key).Ticks);
        var measurement = new IdleMeasurement(used, wall, wakeUps, TimeSpan.FromMilliseconds(jitTicks * 10));
        PrintThreads("idle", threadsBefore, threadsAfter, wall);
        return measurement;
    }

    /// <summary>Where CPU time and wake-ups went, by thread (worker threads summed), on standard error.</summary>
    private static void PrintThreads(
        string label,
        Dictionary<string, (string Name, long Ticks, long WakeUps)> before,
        Dictionary<string, (string Name, long Ticks, long WakeUps)> after,
        TimeSpan wall)
    {
        var threads = after
            .Select(t => (t.Value.Name, Ticks: t.Value.Ticks - before.GetValueOrDefault(t.Key).Ticks, WakeUps: t.Value.WakeUps - before.GetValueOrDefault(t.Key).WakeUps))
            .GroupBy(t => t.Name.StartsWith("meshinery-work", StringComparison.Ordinal) ? "meshinery-worker-*" : t.Name)
            .Select(g => (Name: g.Key, Ticks: g.Sum(t => t.Ticks), WakeUps: g.Sum(t => t.WakeUps)))
            .Where(t => t.Ticks > 0 || t.WakeUps > 0)
            .OrderByDescending(t => t.Ticks)
            .ThenByDescending(t => t.WakeUps)
            .Take(14);
        foreach (var (name, ticks, wakeUps) in threads)
        {
            Console.Error.WriteLine(string.Create(
                CultureInfo.InvariantCulture, $"{label} thread {name,-20} {ticks * 10,6} ms CPU  {wakeUps / wall.TotalSeconds,8:N1} wake-ups/s"));
        }
    }

    /// <summary>Exits as soon as standard input ends: the parent died or gave up on this child.</summary>
    private static void WatchParent()
    {
        var thread = new Thread(() =>
        {
            try
            {
                while (Console.In.ReadLine() is not null)
                {
                }
            }
            catch (IOException)
            {
            }

            Environment.Exit(3);
        })
        {
            IsBackground = true,
            Name = "bench-parent-watch",
        };
        thread.Start();
    }

    private sealed record IdleMeasurement(TimeSpan Cpu, TimeSpan Wall, long WakeUps, TimeSpan JitCpu);
}
