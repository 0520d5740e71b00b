namespace Meshinery;

/// <summary>The one exponential backoff the engine uses: step retries, transient output failures and failed polls.</summary>
internal static class Backoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (1 for the first): <paramref name="first"/> ×
    /// <paramref name="multiplier"/>^(retry − 1), capped at <paramref name="max"/>.
    /// </summary>
    public static TimeSpan Exponential(TimeSpan first, double multiplier, TimeSpan max, int retry)
    {
        if (first <= TimeSpan.Zero)
        {
            return first < max ? first : max;
        }

        // A large exponent overflows to infinity, which the cap turns into max.
        var ticks = first.Ticks * Math.Pow(multiplier, Math.Max(0, retry - 1));
        return ticks >= max.Ticks ? max : TimeSpan.FromTicks((long)ticks);
    }
}
