namespace Meshinery.Kafka.Tests.Support;

/// <summary>Waits for a condition that another component makes true, checking it whenever asked, up to a deadline.</summary>
public static class Eventually
{
    /// <summary>
    /// Re-evaluates <paramref name="condition"/> every 50 ms until it holds or <paramref name="timeout"/> passes. Used
    /// for state that offers no notification to wait on: what lives in the broker (committed offsets; each check is a
    /// round trip) and the counters the engine and the input expose (completed runs, in flight, paused partitions).
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

    /// <summary>As <see cref="HoldsAsync(Func{bool}, TimeSpan)"/>, for a condition that is itself asynchronous (a health check).</summary>
    public static async Task<bool> HoldsAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline || !await timer.WaitForNextTickAsync())
            {
                return false;
            }
        }

        return true;
    }
}
