using System.Diagnostics;
using System.Text.Json;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// Starts this program again as a child that runs one <see cref="RunSpec"/>, waits for its report with a deadline, and
/// makes sure it is gone afterwards (killed with its process tree on a deadline, an error, or when this process exits).
/// </summary>
internal static class ChildProcess
{
    private static readonly Lock s_gate = new();
    private static readonly HashSet<Process> s_running = []; // several at once for scale-out runs

    static ChildProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    public static async Task<RunReport> RunAsync(RunSpec spec, string label, CancellationToken cancellationToken, Action? onReady = null)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (string.Equals(Path.GetFileNameWithoutExtension(start.FileName), "dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(typeof(ChildProcess).Assembly.Location); // started as 'dotnet Meshinery.Scenarios.dll'
        }

        start.ArgumentList.Add("--child");

        // Tiered compilation promotes a method once it has been called 30 times, but only after no new method has been
        // compiled for 100 ms, which a busy run never gives it: hot code could stay unoptimized for seconds. Without that
        // delay, the warm-up brings every system to its steady-state code before it is measured.
        start.Environment["DOTNET_TC_CallCountingDelayMs"] = "0";
        if (Environment.GetEnvironmentVariable("MESHINERY_BENCH_PROFILE") is { Length: > 0 } profileDirectory)
        {
            // Diagnosis: the child writes a CPU-sample and allocation trace (read it with 'dotnet-trace report FILE topN').
            Directory.CreateDirectory(profileDirectory);
            start.Environment["DOTNET_EnableEventPipe"] = "1";
            start.Environment["DOTNET_EventPipeOutputPath"] = Path.Combine(profileDirectory, label.Replace('/', '_').Replace('#', '_') + ".nettrace");
            start.Environment["DOTNET_EventPipeConfig"] = "Microsoft-DotNETCore-SampleProfiler:0:5,Microsoft-Windows-DotNETRuntime:0x1:5";
        }

        using var process = new Process { StartInfo = start };
        RunReport? report = null;
        var errors = new List<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data == RunReport.ReadyLine)
            {
                onReady?.Invoke();
            }
            else if (e.Data is { } line && line.StartsWith(RunReport.Prefix, StringComparison.Ordinal))
            {
                report = JsonSerializer.Deserialize<RunReport>(line[RunReport.Prefix.Length..], Json.Options);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                lock (errors)
                {
                    errors.Add(line);
                }

                Console.Error.WriteLine($"    [{label}] {line}");
            }
        };

        lock (s_gate)
        {
            process.Start();
            s_running.Add(process);
        }

        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(spec, Json.Compact).AsMemory(), cancellationToken).ConfigureAwait(false);
            await process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);

            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(spec.DeadlineSeconds + 15));
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{label} did not finish within {spec.DeadlineSeconds + 15:N0} s; killed.");
            }

            if (process.ExitCode != 0 || report is null)
            {
                string last;
                lock (errors)
                {
                    last = string.Join(Environment.NewLine, errors.TakeLast(5));
                }

                throw new InvalidOperationException($"{label} exited with code {process.ExitCode} without a report. {last}");
            }

            return report;
        }
        finally
        {
            Kill(process);
            lock (s_gate)
            {
                s_running.Remove(process);
            }
        }
    }

    private static void KillAll()
    {
        lock (s_gate)
        {
            foreach (var process in s_running)
            {
                Kill(process);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
            // not started or already gone
        }
    }
}
