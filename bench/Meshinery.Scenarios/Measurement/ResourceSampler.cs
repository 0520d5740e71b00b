using System.Diagnostics;
using System.Globalization;

namespace Meshinery.Scenarios.Measurement;

/// <summary>
/// Samples this process's working set every <see cref="Interval"/> on a thread of its own and keeps the peak; reads
/// CPU time and (on Linux) the kernel's peak resident set and context-switch counts.
/// </summary>
internal sealed class ResourceSampler : IDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(100);

    private readonly Process _process = Process.GetCurrentProcess();
    private readonly ManualResetEventSlim _stop = new();
    private readonly Thread _thread;
    private long _peak;

    public ResourceSampler()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "bench-sampler" };
    }

    /// <summary>The highest working set sampled since <see cref="Start"/>, in bytes.</summary>
    public long PeakWorkingSet => Interlocked.Read(ref _peak);

    public static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    /// <summary>The kernel's peak resident set of this process (VmHWM), in bytes; 0 where unavailable.</summary>
    public static long KernelPeakResidentSet() => ReadStatusValue("/proc/self/status", "VmHWM:") * 1024;

    /// <summary>
    /// Voluntary context switches of every thread of this process so far: each is a thread going to sleep, so each
    /// is followed by a wake-up. (Involuntary ones also count spin-waits that yield, which cost next to nothing.)
    /// 0 where unavailable.
    /// </summary>
    public static long WakeUps()
    {
        const string tasks = "/proc/self/task";
        if (!Directory.Exists(tasks))
        {
            return 0;
        }

        long total = 0;
        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            var status = Path.Combine(task, "status");
            total += ReadStatusValue(status, "voluntary_ctxt_switches:");
        }

        return total;
    }

    /// <summary>
    /// CPU ticks (1/100 s) of the runtime's tiered-compilation threads so far (Linux only): the JIT promoting hot methods
    /// in the background. A thread that exited takes its count with it.
    /// </summary>
    public static long JitTicks() =>
        ThreadTimes().Values.Where(t => t.Name.StartsWith(".NET Tiered", StringComparison.Ordinal)).Sum(t => t.Ticks);

    /// <summary>CPU ticks (utime + stime, 1/100 s) and voluntary switches of each thread, keyed by thread id (Linux only).</summary>
    public static Dictionary<string, (string Name, long Ticks, long WakeUps)> ThreadTimes()
    {
        var threads = new Dictionary<string, (string, long, long)>(StringComparer.Ordinal);
        const string tasks = "/proc/self/task";
        if (!Directory.Exists(tasks))
        {
            return threads;
        }

        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                threads[Path.GetFileName(task)] = (name, ticks, ReadStatusValue(Path.Combine(task, "status"), "voluntary_ctxt_switches:"));
            }
            catch (IOException)
            {
                // the thread exited
            }
        }

        return threads;
    }

    public void Start()
    {
        Record();
        _thread.UnsafeStart();
    }

    public void Stop()
    {
        if (_stop.IsSet)
        {
            return;
        }

        _stop.Set();
        _thread.Join(TimeSpan.FromSeconds(5));
        Record();
    }

    public void Dispose()
    {
        _stop.Set();
        _stop.Dispose();
        _process.Dispose();
    }

    private void Sample()
    {
        while (!_stop.Wait(Interval))
        {
            Record();
        }
    }

    private void Record()
    {
        _process.Refresh();
        var current = _process.WorkingSet64;
        if (current > Interlocked.Read(ref _peak))
        {
            Interlocked.Exchange(ref _peak, current);
        }
    }

    private static long ReadStatusValue(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var number = line.AsSpan(key.Length).Trim();
                    var end = number.IndexOf(' ');
                    return long.Parse(end < 0 ? number : number[..end], NumberStyles.Integer, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // a thread that exits while it is being read
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
