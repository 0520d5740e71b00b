using System.Diagnostics;
using System.Globalization;
using Meshinery;

namespace BlockingSteps;

/// <summary>Writes a progress line at a fixed interval from the engine's statistics until the engine stops.</summary>
internal static class ProgressReporter
{
    public static async Task RunAsync(
        MeshineryEngine engine, string taskName, int total, TimeSpan interval, TextWriter writer, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        var startedAt = Stopwatch.GetTimestamp();
        var lastAt = startedAt;
        var lastFinished = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false) && !engine.Completion.IsCompleted)
            {
                var stats = engine.GetStatistics(taskName);
                var now = Stopwatch.GetTimestamp();
                var rate = (stats.Finished - lastFinished) / Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds;
                writer.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"progress {Stopwatch.GetElapsedTime(startedAt, now).TotalSeconds,5:F1} s: {stats.Finished,7:N0}/{total:N0} processed, {stats.InFlight,5:N0} in flight, {rate,8:N0} items/s"));
                lastAt = now;
                lastFinished = stats.Finished;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The run is over.
        }
    }
}
