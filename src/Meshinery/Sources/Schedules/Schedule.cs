using System.Globalization;
using Cronos;

namespace Meshinery;

/// <summary>When a <see cref="TimerInput"/> fires: a fixed interval or a cron expression, each its own type.</summary>
internal abstract class Schedule
{
    /// <summary>The first occurrence strictly after <paramref name="after"/>, or <see langword="null"/> when there is none.</summary>
    public abstract DateTimeOffset? Next(DateTimeOffset after);

    /// <summary>
    /// Given an occurrence <paramref name="due"/> at or before <paramref name="now"/>, returns the latest occurrence at
    /// or before <paramref name="now"/> and how many occurrences between the two (<paramref name="due"/> included) it skips.
    /// </summary>
    public abstract (DateTimeOffset Latest, long Skipped) CatchUp(DateTimeOffset due, DateTimeOffset now);
}

/// <summary>Every <c>interval</c>, counted from the input's start.</summary>
internal sealed class IntervalSchedule(TimeSpan interval) : Schedule
{
    public override DateTimeOffset? Next(DateTimeOffset after) => after + interval;

    public override (DateTimeOffset Latest, long Skipped) CatchUp(DateTimeOffset due, DateTimeOffset now)
    {
        // Arithmetic rather than stepping: a millisecond interval after an hour's pause would be millions of steps.
        var skipped = (now - due).Ticks / interval.Ticks;
        return (due + TimeSpan.FromTicks(interval.Ticks * skipped), skipped);
    }
}

/// <summary>A cron expression evaluated in a time zone (Cronos handles the daylight-saving gaps and overlaps).</summary>
internal sealed class CronSchedule(CronExpression expression, TimeZoneInfo zone) : Schedule
{
    public static bool TryParse(string expression, out CronExpression? cron, out string? problem)
    {
        cron = null;
        problem = null;
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        try
        {
            cron = CronExpression.Parse(expression, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return true;
        }
        catch (CronFormatException error)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"'{expression}' is not a cron expression of 5 fields (minute hour day month weekday) or 6 (seconds first): {error.Message}");
            return false;
        }
    }

    public override DateTimeOffset? Next(DateTimeOffset after) => expression.GetNextOccurrence(after, zone);

    public override (DateTimeOffset Latest, long Skipped) CatchUp(DateTimeOffset due, DateTimeOffset now)
    {
        var latest = due;
        long skipped = 0;
        while (Next(latest) is { } next && next <= now)
        {
            latest = next;
            skipped++;
        }

        return (latest, skipped);
    }
}
