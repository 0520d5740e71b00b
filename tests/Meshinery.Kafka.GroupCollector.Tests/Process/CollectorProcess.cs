using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Meshinery.Kafka.GroupCollector.Tests.Process;

/// <summary>
/// The GroupCollector sample running as a child process (<c>dotnet GroupCollector.dll ...</c>). Both output streams are
/// read continuously (a full pipe would block the child) and kept for assertions and failure messages.
/// </summary>
/// <remarks>
/// The test project references the sample with <c>ReferenceOutputAssembly="false"</c>, so building the tests builds it
/// (same configuration) without copying it; this class finds it under <c>samples/GroupCollector/bin/{configuration}/{framework}/</c>.
/// <c>MESHINERY_GROUP_COLLECTOR_DLL</c> overrides the path.
/// </remarks>
public sealed class CollectorProcess : IAsyncDisposable
{
    public const string DllOverrideVariable = "MESHINERY_GROUP_COLLECTOR_DLL";

    private static readonly Lazy<string> s_dll = new(LocateDll);
    private readonly System.Diagnostics.Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly SemaphoreSlim _line = new(0);

    private CollectorProcess(System.Diagnostics.Process process)
    {
        _process = process;
    }

    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    public IReadOnlyList<string> StandardError => [.. _stderr];

    public string Transcript =>
        $"--- stdout ---{Environment.NewLine}{string.Join(Environment.NewLine, _stdout)}{Environment.NewLine}" +
        $"--- stderr ---{Environment.NewLine}{string.Join(Environment.NewLine, _stderr)}";

    public static CollectorProcess Start(params string[] arguments)
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

        var process = new System.Diagnostics.Process { StartInfo = start };
        var child = new CollectorProcess(process);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._stdout);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._stderr);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Waits until <paramref name="count"/> lines of either stream satisfy <paramref name="predicate"/>; fails at the deadline or when the child exits first.</summary>
    public async Task WaitForLinesAsync(Func<string, bool> predicate, int count, string what, TimeSpan deadline)
    {
        var until = Environment.TickCount64 + (long)deadline.TotalMilliseconds;
        while (_stdout.Concat(_stderr).Count(predicate) < count)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The collector exited (code {_process.ExitCode}) before {what}.{Environment.NewLine}{Transcript}");
            }

            var left = until - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"Timed out after {deadline.TotalSeconds:N0} s waiting for {what}.{Environment.NewLine}{Transcript}");
            }

            await _line.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, 500)));
        }
    }

    /// <summary>Kills the child at once (SIGKILL on Linux): no drain, no commit, no flush.</summary>
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

    /// <summary>Asks the child to stop as a service manager does (SIGTERM) and waits for it to exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan deadline)
    {
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        return await WaitForExitAsync(deadline);
    }

    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Kill();
            throw new TimeoutException($"The collector did not exit within {deadline.TotalSeconds:N0} s; killed it.{Environment.NewLine}{Transcript}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        }

        _process.Dispose();
        _line.Dispose();
    }

    private void OnLine(string? line, ConcurrentQueue<string> lines)
    {
        if (line is not null)
        {
            lines.Enqueue(line);
            _line.Release();
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

        var configuration = typeof(CollectorProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Meshinery.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new DirectoryNotFoundException($"No Meshinery.sln above {AppContext.BaseDirectory}; set {DllOverrideVariable} to the sample's GroupCollector.dll.");
        }

        var dll = Path.Combine(root.FullName, "samples", "GroupCollector", "bin", configuration, framework, "GroupCollector.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException($"The GroupCollector sample is not built at {dll}. Build the tests (which builds it) or set {DllOverrideVariable}.");
    }
}
