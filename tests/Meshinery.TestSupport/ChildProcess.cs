using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Meshinery.TestSupport;

/// <summary>
/// A .NET program run as a child process (<c>dotnet Program.dll ...</c>), as other programs drive it. Both output
/// streams are read continuously (a full pipe would block the child) and kept, line by line, for assertions and failure
/// messages; waits end on a line, on the child's exit or at a deadline, never after a fixed sleep.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _name;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _watchersLock = new();
    private readonly List<Watcher> _watchers = [];

    private ChildProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>The child's process id.</summary>
    public int Id => _process.Id;

    /// <summary>The lines written to stdout so far.</summary>
    public IReadOnlyList<string> StandardOutput => [.. _stdout];

    /// <summary>The lines written to stderr so far.</summary>
    public IReadOnlyList<string> StandardError => [.. _stderr];

    /// <summary>Both streams, for failure messages.</summary>
    public string Transcript =>
        $"--- stdout ---{Environment.NewLine}{string.Join(Environment.NewLine, _stdout)}{Environment.NewLine}" +
        $"--- stderr ---{Environment.NewLine}{string.Join(Environment.NewLine, _stderr)}";

    /// <summary>Starts <c>dotnet {dll} {arguments}</c> in the dll's folder.</summary>
    /// <param name="dll">The program's dll (see <see cref="LocateSample"/>).</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="name">What failure messages call it (for example "the sample").</param>
    public static ChildProcess Start(string dll, IEnumerable<string> arguments, string name)
    {
        ArgumentNullException.ThrowIfNull(arguments);
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
        var child = new ChildProcess(process, name);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data, child._stdout, child._stdoutClosed, fromStderr: false);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data, child._stderr, child._stderrClosed, fromStderr: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>
    /// The dll of the sample <c>samples/{sample}/</c>, built with the test assembly's configuration and framework: a test
    /// project references the sample with <c>ReferenceOutputAssembly="false"</c>, so building the tests builds it without
    /// copying it, under <c>samples/{sample}/bin/{configuration}/{framework}/{sample}.dll</c>. The environment variable
    /// <paramref name="overrideVariable"/>, when set, names the dll instead.
    /// </summary>
    /// <param name="sample">The sample's folder and assembly name.</param>
    /// <param name="overrideVariable">The environment variable that overrides the path.</param>
    /// <param name="testAssembly">The test assembly (its configuration is the sample's).</param>
    public static string LocateSample(string sample, string overrideVariable, Assembly testAssembly)
    {
        ArgumentNullException.ThrowIfNull(testAssembly);
        if (Environment.GetEnvironmentVariable(overrideVariable) is { Length: > 0 } configured)
        {
            return File.Exists(configured)
                ? Path.GetFullPath(configured)
                : throw new FileNotFoundException($"{overrideVariable} names '{configured}', which does not exist.");
        }

        var configuration = testAssembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Meshinery.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new DirectoryNotFoundException($"No Meshinery.sln above {AppContext.BaseDirectory}; set {overrideVariable} to the sample's {sample}.dll.");
        }

        var dll = Path.Combine(root.FullName, "samples", sample, "bin", configuration, framework, $"{sample}.dll");
        return File.Exists(dll)
            ? dll
            : throw new FileNotFoundException(
                $"The {sample} sample is not built at {dll}. Build the tests (which builds it) or run " +
                $"'dotnet build samples/{sample} -c {configuration}', or set {overrideVariable}.");
    }

    /// <summary>
    /// Waits until <paramref name="count"/> lines (of stderr, or of both streams) satisfy <paramref name="predicate"/>;
    /// returns the last of them. Fails at the deadline, or when the streams end first (the child exited).
    /// </summary>
    public async Task<string> WaitForLinesAsync(Func<string, bool> predicate, int count, string what, TimeSpan deadline, bool stderrOnly = false)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var watcher = new Watcher(predicate, count, stderrOnly);
        lock (_watchersLock)
        {
            _watchers.Add(watcher);

            // Lines that arrived before the watcher, counted under the lock so that none is counted twice.
            foreach (var line in stderrOnly ? _stderr : _stdout.Concat(_stderr))
            {
                watcher.Offer(line);
            }
        }

        var closed = stderrOnly ? _stderrClosed.Task : Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            await Task.WhenAny(watcher.Seen.Task, closed).WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"Timed out after {deadline.TotalSeconds:N0} s waiting for {what}.{Environment.NewLine}{Transcript}");
        }
        finally
        {
            lock (_watchersLock)
            {
                _watchers.Remove(watcher);
            }
        }

        return watcher.Seen.Task.IsCompleted
            ? await watcher.Seen.Task.ConfigureAwait(false)
            : throw new InvalidOperationException($"{Capitalized()} exited before {what}.{Environment.NewLine}{Transcript}");
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
            throw new TimeoutException($"{Capitalized()} did not exit within {deadline.TotalSeconds:N0} s; killed it.{Environment.NewLine}{Transcript}");
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

    /// <summary>Asks the child to stop as a service manager does (SIGTERM; <see cref="Process.Kill()"/> sends only SIGKILL) and waits for it to exit.</summary>
    public async Task<int> TerminateAsync(TimeSpan deadline)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync().WaitAsync(deadline).ConfigureAwait(false);
            if (kill.ExitCode != 0)
            {
                throw new InvalidOperationException($"kill -TERM {Id} failed with exit code {kill.ExitCode}.{Environment.NewLine}{Transcript}");
            }
        }

        return await WaitForExitAsync(deadline).ConfigureAwait(false);
    }

    /// <summary>Kills the child if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Kill();
            await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }

        _process.Dispose();
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

    private string Capitalized() => _name.Length == 0 ? "The child" : char.ToUpperInvariant(_name[0]) + _name[1..];

    private void OnLine(string? line, ConcurrentQueue<string> lines, TaskCompletionSource closed, bool fromStderr)
    {
        if (line is null)
        {
            closed.TrySetResult(); // end of stream
            return;
        }

        lock (_watchersLock)
        {
            lines.Enqueue(line);
            foreach (var watcher in _watchers)
            {
                if (fromStderr || !watcher.StderrOnly)
                {
                    watcher.Offer(line);
                }
            }
        }
    }

    /// <summary>One wait: how many matching lines it still needs. Used under the watchers' lock.</summary>
    private sealed class Watcher(Func<string, bool> predicate, int count, bool stderrOnly)
    {
        private int _left = count;

        public bool StderrOnly => stderrOnly;

        public TaskCompletionSource<string> Seen { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Offer(string line)
        {
            if (!Seen.Task.IsCompleted && predicate(line) && --_left <= 0)
            {
                Seen.TrySetResult(line);
            }
        }
    }
}
