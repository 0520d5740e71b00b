namespace Meshinery.Kafka.Tests.Support;

/// <summary>Waits for a condition that another component makes true, checking it whenever asked, up to a deadline.</summary>
public static class Eventually
{
    /// <summary>
    /// Re-evaluates <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes. Used only for
    /// state that lives in the broker (committed offsets), which offers no notification to wait on; each check is a
    /// broker round trip, so it polls at 50 ms.
    /// </summary>
    public static async Task<bool> HoldsAsync(Func<bool> condition, TimeSpan timeout)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline || !await timer.WaitForNextTickAsync())
            {
                return false;
            }
        }

        return true;
    }
}
