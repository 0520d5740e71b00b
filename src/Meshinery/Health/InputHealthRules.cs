using System.Globalization;

namespace Meshinery;

/// <summary>The three rules an input's <see cref="InputHealthSnapshot"/> is judged by, in one place.</summary>
internal static class InputHealthRules
{
    /// <summary>Returns why the input is degraded, or <see langword="null"/> when it is healthy.</summary>
    public static string? Judge(InputHealthSnapshot snapshot, MeshineryHealthCheckOptions options, DateTimeOffset now)
    {
        var problems = new List<string>(3);
        if (snapshot is { AssignedPartitions: 0, AssignmentChangedAt: { } since } &&
            Exceeds(now - since, options.NoPartitionsTimeout))
        {
            problems.Add(Format($"no partitions for {now - since:c} (limit {options.NoPartitionsTimeout:c})"));
        }

        // Only an input with items waiting can be stalled: an idle one (lag 0) has nothing to make progress on.
        if (snapshot is { Lag: > 0, LastProgressAt: { } progress } && Exceeds(now - progress, options.NoProgressTimeout))
        {
            problems.Add(Format($"no progress for {now - progress:c} with a lag of {snapshot.Lag} (limit {options.NoProgressTimeout:c})"));
        }

        if (options.MaxLag is { } maxLag && snapshot.Lag > maxLag)
        {
            problems.Add(Format($"lag {snapshot.Lag} is above {maxLag}"));
        }

        return problems.Count == 0 ? null : string.Join(", ", problems);
    }

    /// <summary>A one-line account of a healthy input, for the report's data.</summary>
    public static string Describe(InputHealthSnapshot snapshot)
    {
        var parts = new List<string>(3) { "ok" };
        if (snapshot.AssignedPartitions is { } partitions)
        {
            parts.Add(Format($"{partitions} partition(s)"));
        }

        if (snapshot.Lag is { } lag)
        {
            parts.Add(Format($"lag {lag}"));
        }

        return string.Join(", ", parts);
    }

    private static bool Exceeds(TimeSpan elapsed, TimeSpan limit) => limit != Timeout.InfiniteTimeSpan && elapsed >= limit;

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
