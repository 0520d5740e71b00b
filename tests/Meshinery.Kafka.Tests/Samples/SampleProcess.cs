using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Meshinery.Kafka.Tests.Samples;

/// <summary>
/// The OrderEnrichment sample running as a child process (<c>dotnet OrderEnrichment.dll ...</c>), as other programs
/// drive it. Both output streams are read continuously (a full pipe would block the child) and kept for assertions
/// and failure messages.
/// </summary>
/// <remarks>
/// The test project references the sample with <c>ReferenceOutputAssembly="false"</c>, so building the tests builds
/// the sample (same configuration) without copying it; this class finds its output under
/// <c>samples/OrderEnrichment/bin/{configuration}/{framework}/</c>. <c>MESHINERY_ORDER_ENRICHMENT_DLL</c> overrides
/// the path.
/// </remarks>
public sealed partial class SampleProcess : IAsyncDisposable
{
    public const string DllOverrideVariable = "MESHINERY_ORDER_ENRICHMENT_DLL";

    private static readonly Lazy<string> s_dll = new(LocateDll);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _watchersLock = new();
    private readonly List<(Func<string, bool> Predicate, TaskCompletionSource<string> Seen)> _watchers = [];

    private SampleProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The child's process id (the sample writes it into every output as <c>enrichedBy</c>).</summary>
    public int Id => _process.Id;

    /// <summary>What the sample writes into <c>enrichedBy</c>.</summary>
    public string Instance => string.Create(CultureInfo.InvariantCulture, $"order-enrichment/{Id}");

    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    /// <summary>Both streams, for failure messages.</summary>
    public string Transcript =>
        $"--- stdout ---{Environment.NewLine}{string.Join(Environment.NewLine, _stdout)}{Environment.NewLine}" +
        $"--- stderr ---{Environment.NewLine}{string.Join(Environment.NewLine, _stderr)}";

    public static SampleProcess Start(IEnumerable<string> arguments)
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
        var sample = new SampleProcess(process);
        process.OutputDataReceived += (_, e) => sample.OnLine(e.Data, sample._stdout, sample._stdoutClosed);
        process.ErrorDataReceived += (_, e) => sample.OnLine(e.Data, sample._stderr, sample._stderrClosed);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return sample;
    }

    /// <summary>Waits for a line on stderr (progress, logs) that satisfies <paramref name="predicate"/>; fails at the deadline or when the child exits first.</summary>
    public async Task<string> WaitForStderrLineAsync(Func<string, bool> predicate, string what, TimeSpan deadline)
    {
        var seen = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_watchersLock)
        {
            _watchers.Add((predicate, seen));
        }

        foreach (var line in _stderr.Where(predicate))
        {
            seen.TrySetResult(line);
        }

        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await Task.WhenAny(seen.Task, _stderrClosed.Task).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {deadline.TotalSeconds:N0} s waiting for {what}.{Environment.NewLine}{Transcript}");
        }

        return seen.Task.IsCompleted
            ? await seen.Task.ConfigureAwait(false)
            : throw new InvalidOperationException($"The sample exited before {what}.{Environment.NewLine}{Transcript}");
    }

    /// <summary>Waits for the child to exit and for both streams to be read to their end; kills it at the deadline.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            await Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"The sample did not exit within {deadline.TotalSeconds:N0} s; killed it.{Environment.NewLine}{Transcript}");
        }

        return _process.ExitCode;
    }

    /// <summary>Kills the child at once (SIGKILL on Linux and macOS): no drain, no final commit, no flush.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It has exited already.
        }
    }

    /// <summary>Parses the summary, which must be the last line on stdout.</summary>
    public SampleSummary Summary()
    {
        var last = _stdout.LastOrDefault(line => line.Length > 0);
        var match = last is null ? Match.Empty : SummaryLine().Match(last);
        if (!match.Success)
        {
            throw new FormatException($"The last line on stdout is not the summary: '{last}'.{Environment.NewLine}{Transcript}");
        }

        return new SampleSummary(
            long.Parse(match.Groups["processed"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["failed"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["dead"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["elapsed"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["throughput"].Value, CultureInfo.InvariantCulture));
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

    [GeneratedRegex(@"^processed=(?<processed>\d+) failed=(?<failed>\d+) dead-lettered=(?<dead>\d+) elapsed_s=(?<elapsed>\d+\.\d+) throughput_per_s=(?<throughput>\d+\.\d+)$")]
    private static partial Regex SummaryLine();

    private void OnLine(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult(); // end of stream
            return;
        }

        lines.Enqueue(line);
        if (!ReferenceEquals(lines, _stderr))
        {
            return;
        }

        lock (_watchersLock)
        {
            foreach (var (predicate, seen) in _watchers)
            {
                if (!seen.Task.IsCompleted && predicate(line))
                {
                    seen.TrySetResult(line);
                }
            }
        }
    }

    /// <summary>The <c>dotnet</c> host that runs this test process (the CLI exports it), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        return Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";
    }

    private static string LocateDll()
    {
        if (Environment.GetEnvironmentVariable(DllOverrideVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? Path.GetFullPath(configured)
                : throw new FileNotFoundException($"{DllOverrideVariable} names '{configured}', which does not exist.");
        }

        // This assembly sits in tests/Meshinery.Kafka.Tests/bin/{configuration}/{framework}/; the sample is built with the
        // same configuration and framework (it is a project reference of this test project).
        var assembly = typeof(SampleProcess).Assembly;
        var configuration = assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Meshinery.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new DirectoryNotFoundException($"No Meshinery.sln above {AppContext.BaseDirectory}; set {DllOverrideVariable} to the sample's OrderEnrichment.dll.");
        }

        var dll = Path.Combine(root.FullName, "samples", "OrderEnrichment", "bin", configuration, framework, "OrderEnrichment.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException(
                $"The OrderEnrichment sample is not built at {dll}. Build the tests (which builds it) or run " +
                $"'dotnet build samples/OrderEnrichment -c {configuration}', or set {DllOverrideVariable}.");
    }
}

/// <summary>The sample's summary line: <c>processed=N failed=N dead-lettered=N elapsed_s=X throughput_per_s=Y</c>.</summary>
public sealed record SampleSummary(long Processed, long Failed, long DeadLettered, double ElapsedSeconds, double ThroughputPerSecond);
