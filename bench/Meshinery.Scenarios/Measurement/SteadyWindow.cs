using System.Diagnostics;

namespace Meshinery.Scenarios.Measurement;

/// <summary>
/// Measures CPU time, allocations and wake-ups per message at steady state: over a window of acknowledged messages
/// that leaves out the start (process start, consumer-group join, JIT, the first fill of the in-flight slots) and the
/// tail (the last in-flight runs draining with fewer and fewer in flight). It samples (acknowledged count, process CPU
/// time) pairs on a thread of its own every <see cref="Interval"/>; the two are read together, so the sampling
/// interval limits the window's length, not its accuracy.
/// </summary>
internal sealed class SteadyWindow : IDisposable
{
    /// <summary>The window opens at this share of the target (a run with a target)...</summary>
    public const double StartShare = 0.2;

    /// <summary>...and closes at this share.</summary>
    public const double EndShare = 0.9;

    /// <summary>A run without a target (budget only) opens the window this long after its first read and closes it at its end.</summary>
    public static readonly TimeSpan UntargetedWarmup = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(10);

    private readonly RunProbe _probe;
    private readonly long _opensAt;
    private readonly long _closesAt;
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;
    private Mark? _open;
    private Mark? _close;

    public SteadyWindow(RunProbe probe, long target)
    {
        _probe = probe;
        var targeted = target is > 0 and < long.MaxValue;
        _opensAt = targeted ? (long)(target * StartShare) : long.MaxValue;
        _closesAt = targeted ? (long)(target * EndShare) : long.MaxValue;
        _thread = new Thread(Sample) { IsBackground = true, Name = "bench-steady" };
    }

    public void Start() => _thread.UnsafeStart();

    /// <summary>Stops sampling and returns the window's figures, or null when it never opened or holds no message.</summary>
    public SteadyReport? Stop()
    {
        Halt();

        // An untargeted run (or one that ended early) closes its window at the end.
        var close = _close ?? (_open is null ? null : Take(opening: false));
        if (_open is not { } open || close is null || close.Acked <= open.Acked)
        {
            return null;
        }

        var messages = close.Acked - open.Acked;
        return new SteadyReport
        {
            Messages = messages,
            Seconds = Stopwatch.GetElapsedTime(open.Stamp, close.Stamp).TotalSeconds,
            CpuSeconds = (close.Cpu - open.Cpu).TotalSeconds,
            AllocatedBytes = close.Allocated - open.Allocated,
            WakeUps = close.WakeUps - open.WakeUps,
            JitCpuSeconds = Math.Max(0, close.JitTicks - open.JitTicks) / 100.0,
            OpenStamp = open.Stamp,
            CloseStamp = close.Stamp,
        };
    }

    /// <summary>Stops the sampler before its signal goes (a run that failed is disposed without <see cref="Stop"/>).</summary>
    public void Dispose()
    {
        Halt();
        _stop.Dispose();
    }

    private void Halt()
    {
        if (!_stop.IsSet)
        {
            _stop.Set();
            if (_thread.ThreadState != System.Threading.ThreadState.Unstarted)
            {
                _thread.Join(TimeSpan.FromSeconds(5));
            }
        }
    }

    private void Sample()
    {
        while (!_stop.Wait(Interval))
        {
            if (_open is null)
            {
                var acked = _probe.Acked;
                var firstRead = _probe.FirstReadStamp;
                if (acked >= _opensAt || (_opensAt == long.MaxValue && firstRead != 0 && Stopwatch.GetElapsedTime(firstRead) >= UntargetedWarmup))
                {
                    _open = Take(opening: true);
                }
            }
            else if (_close is null && _probe.Acked >= _closesAt)
            {
                _close = Take(opening: false);
                return;
            }
        }
    }

    private Mark Take(bool opening)
    {
        // The switch counts and the JIT's ticks are read per thread from /proc, which costs CPU (a few ms with hundreds
        // of threads): they are read outside the CPU readings, before the window opens and after it closes.
        var (wakeUps, jitTicks) = opening ? (ResourceSampler.WakeUps(), ResourceSampler.JitTicks()) : (0, 0);
        var cpu = Environment.CpuUsage.TotalTime;
        var acked = _probe.Acked;
        var stamp = Stopwatch.GetTimestamp();
        var allocated = GC.GetTotalAllocatedBytes();
        return opening
            ? new Mark(acked, stamp, cpu, allocated, wakeUps, jitTicks)
            : new Mark(acked, stamp, cpu, allocated, ResourceSampler.WakeUps(), ResourceSampler.JitTicks());
    }

    private sealed record Mark(long Acked, long Stamp, TimeSpan Cpu, long Allocated, long WakeUps, long JitTicks);
}

/// <summary>What a run's steady-state window measured (see <see cref="SteadyWindow"/>).</summary>
internal sealed record SteadyReport
{
    public long Messages { get; init; }

    public double Seconds { get; init; }

    public double CpuSeconds { get; init; }

    public long AllocatedBytes { get; init; }

    public long WakeUps { get; init; }

    /// <summary>CPU the runtime's tiered compilation used in the window (counted in <see cref="CpuSeconds"/> too; 10 ms ticks).</summary>
    public double JitCpuSeconds { get; init; }

    /// <summary>When the window opened and closed (<see cref="Stopwatch"/> stamps, comparable across the machine's processes).</summary>
    public long OpenStamp { get; init; }

    public long CloseStamp { get; init; }
}
