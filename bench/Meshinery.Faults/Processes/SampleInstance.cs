using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Meshinery.Faults.Processes;

/// <summary>
/// One OrderEnrichment process. Both streams are read continuously (a full pipe would block it) and every line is kept
/// with the run clock's time, so a scenario can tell what the instance did when, relative to the faults it injected.
/// </summary>
internal sealed partial class SampleInstance : IAsyncDisposable
{
    private static readonly Lazy<string> s_dll = new(LocateDll);
    private readonly Process _process;
    private readonly RunClock _clock;
    private readonly ConcurrentQueue<(TimeSpan At, bool Error, string Text)> _lines = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, TimeSpan> _jitThreads = new(StringComparer.Ordinal);
    private long _processed;

    private SampleInstance(string name, Process process, RunClock clock)
    {
        Name = name;
        _process = process;
        _clock = clock;
    }

    public string Name { get; }

    public int Id { get; private set; }

    /// <summary>What the sample writes into every output's <c>enrichedBy</c>.</summary>
    public string Instance => string.Create(CultureInfo.InvariantCulture, $"order-enrichment/{Id}");

    public TimeSpan StartedAt { get; private set; }

    /// <summary>The "processed N" of its last progress line.</summary>
    public long Processed => Interlocked.Read(ref _processed);

    public bool Killed { get; private set; }

    public bool HasExited => _process.HasExited;

    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    public IReadOnlyCollection<(TimeSpan At, bool Error, string Text)> Lines => _lines;

    public static SampleInstance Start(string name, IEnumerable<string> arguments, RunClock clock)
    {
        var dll = s_dll.Value;
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var instance = new SampleInstance(name, process, clock);
        process.OutputDataReceived += (_, e) => instance.OnLine(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => instance.OnLine(e.Data, error: true);
        SocketInheritance.MarkSocketsCloseOnExec(); // the embedded broker's connections stay its own
        process.Start();
        instance.Id = process.Id;
        instance.StartedAt = clock.Now;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return instance;
    }

    /// <summary>SIGKILL: no drain, no final commit, no flush.</summary>
    public void Kill()
    {
        Killed = true;
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    /// <summary>SIGTERM: the sample's host stops the engine (drain, final commit) and exits.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            Signals.Terminate(Id);
        }
    }

    /// <summary>Waits for the exit and the end of both streams; SIGKILLs it at the deadline and returns <see langword="null"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(timeout.Token).ConfigureAwait(false);
            return _process.ExitCode;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            return null;
        }
    }

    /// <summary>The first line at or after <paramref name="after"/> that contains <paramref name="text"/>.</summary>
    public TimeSpan? FirstLineAfter(TimeSpan after, string text) =>
        _lines.Where(l => l.At >= after && l.Text.Contains(text, StringComparison.Ordinal)).Select(l => (TimeSpan?)l.At).FirstOrDefault();

    public int CountLines(string text) => _lines.Count(l => l.Text.Contains(text, StringComparison.Ordinal));

    /// <summary>The summary line (the last line on stdout), or <see langword="null"/> (killed).</summary>
    public string? SummaryLine() => _lines.LastOrDefault(l => !l.Error && l.Text.StartsWith("processed=", StringComparison.Ordinal)).Text;

    public IEnumerable<string> Transcript() =>
        _lines.Select(l => string.Create(CultureInfo.InvariantCulture, $"[{l.At.TotalSeconds,8:F3} {Name} {(l.Error ? "err" : "out")}] {l.Text}"));

    /// <summary>Resident memory (kB), threads and open file descriptors of the process, from /proc; <see langword="null"/> once it exited.</summary>
    public (long RssKb, int Threads, int Handles)? Resources()
    {
        try
        {
            long rss = 0;
            var threads = 0;
            foreach (var line in File.ReadLines($"/proc/{Id}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return (rss, threads, Directory.GetFileSystemEntries($"/proc/{Id}/fd").Length);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>CPU time (user + system) the process has used so far, from /proc; <see langword="null"/> once it exited.</summary>
    public TimeSpan? CpuTime() => ReadCpuTime($"/proc/{Id}/stat");

    /// <summary>
    /// CPU time the runtime's tiered-compilation threads have used so far (they promote hot methods to optimized code
    /// in the background), from /proc; a thread that exited when idle still counts. <see langword="null"/> once the
    /// process exited.
    /// </summary>
    public TimeSpan? JitCpuTime()
    {
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{Id}/task"))
            {
                // The kernel keeps 15 characters of ".NET Tiered Compilation Worker". A thread may exit while it is read.
                if (ReadText(Path.Combine(task, "comm"))?.StartsWith(".NET Tiered", StringComparison.Ordinal) == true &&
                    ReadCpuTime(Path.Combine(task, "stat")) is { } used)
                {
                    _jitThreads[task] = used;
                }
            }
        }
        catch (IOException)
        {
            return null; // the process exited
        }

        return _jitThreads.Values.Aggregate(TimeSpan.Zero, (sum, used) => sum + used);
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static TimeSpan? ReadCpuTime(string statPath)
    {
        try
        {
            // Fields 14 and 15 (utime, stime) in clock ticks; the command name (field 2) may hold spaces, so count from its ')'.
            var stat = File.ReadAllText(statPath);
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0); // USER_HZ is 100 on Linux
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The input partitions this instance holds by its own log: those of its assignment lines (event 100) minus those
    /// of its revocation and loss lines (101, 102), in order; so it follows eager and incremental protocols alike.
    /// </summary>
    public IReadOnlySet<string> HeldPartitions()
    {
        var held = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, _, text) in _lines)
        {
            var adds = text.Contains("Meshinery.Kafka[100]", StringComparison.Ordinal);
            if (!adds && !text.Contains("Meshinery.Kafka[101]", StringComparison.Ordinal) && !text.Contains("Meshinery.Kafka[102]", StringComparison.Ordinal))
            {
                continue;
            }

            var list = text.IndexOf("partition(s)", StringComparison.Ordinal) is var at and >= 0 ? text[(text.IndexOf(':', at) + 1)..] : "";
            foreach (var partition in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                _ = adds ? held.Add(partition) : held.Remove(partition);
            }
        }

        return held;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"^progress\s.*\bprocessed ([\d,]+)")]
    private static partial Regex ProgressLine();

    private void OnLine(string? line, bool error)
    {
        if (line is null)
        {
            (error ? _stderrClosed : _stdoutClosed).TrySetResult();
            return;
        }

        _lines.Enqueue((_clock.Now, error, line));
        if (error && ProgressLine().Match(line) is { Success: true } progress)
        {
            Interlocked.Exchange(ref _processed, long.Parse(progress.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        }
    }

    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path
        : "dotnet";

    /// <summary>The sample is built with the tool (same configuration): samples/OrderEnrichment/bin/{configuration}/{framework}/.</summary>
    private static string LocateDll()
    {
        var configuration = typeof(SampleInstance).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var dll = Path.Combine(RepositoryRoot(), "samples", "OrderEnrichment", "bin", configuration, framework, "OrderEnrichment.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"The OrderEnrichment sample is not built at {dll}; build this tool (it builds the sample).");
    }

    public static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Meshinery.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new DirectoryNotFoundException($"No Meshinery.sln above {AppContext.BaseDirectory}.");
    }
}
