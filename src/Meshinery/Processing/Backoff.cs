namespace Meshinery;

/// <summary>
/// The one exponential backoff the engine uses: step retries, transient output failures and failed polls; and the
/// jitter of transient output retries.
/// </summary>
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

    /// <summary>
    /// <paramref name="delay"/> times a factor between 1 − <paramref name="jitter"/> and 1, chosen by
    /// <paramref name="random"/> (uniform in [0, 1)): never longer than the backoff, so its cap still holds.
    /// </summary>
    public static TimeSpan Jittered(TimeSpan delay, double jitter, double random) =>
        jitter <= 0 ? delay : TimeSpan.FromTicks((long)(delay.Ticks * (1 - (jitter * random))));
}
