using System.Globalization;
using Meshinery;

namespace BlockingSteps;

/// <summary>The final line: what ran, how fast, and how that compares with a sequential loop and the theoretical bound.</summary>
internal static class Summary
{
    public static string Format(SampleSettings settings, TaskStatistics stats, TimeSpan elapsed, int written)
    {
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        var throughput = stats.Finished / seconds;

        // Sequential: one item after the other, each blocking for the latency (what a single partition gets).
        var sequential = TimeSpan.FromTicks(settings.Latency.Ticks * stats.Finished);

        // Little's law: with W threads each busy for L per item, at most W / L items per second get through.
        var bound = settings.Latency > TimeSpan.Zero ? settings.Workers / settings.Latency.TotalSeconds : double.PositiveInfinity;
        var boundText = double.IsPositiveInfinity(bound)
            ? "no bound (latency 0)"
            : string.Create(CultureInfo.InvariantCulture, $"{settings.Workers:N0} workers / {settings.Latency.TotalMilliseconds:N0} ms = {bound:N0} items/s, {throughput / bound:P0} reached");

        var speedUpText = sequential > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"speed-up x{sequential.TotalSeconds / seconds:N0}")
            : "no speed-up to speak of";

        return string.Create(
            CultureInfo.InvariantCulture,
            $"summary: {stats.Finished:N0} items ({written:N0} written, {stats.Dropped:N0} dropped, {stats.Failed:N0} failed) in {elapsed.TotalSeconds:F2} s = {throughput:N0} items/s; " +
            $"sequential {stats.Finished:N0} x {settings.Latency.TotalMilliseconds:N0} ms = {sequential.TotalSeconds:N1} s, {speedUpText}; " +
            $"Little's-law bound {boundText}");
    }
}
