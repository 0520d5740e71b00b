namespace Meshinery.TestSupport;

/// <summary>
/// Waits with a deadline. Tests wait on signals (tasks, semaphores, countdowns), never on fixed sleeps; the deadline
/// is generous because a shared, noisy machine may be slow, and it only matters when something is broken.
/// </summary>
public static class Deadline
{
    /// <summary>How long a test waits for something that normally takes milliseconds.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    /// <summary>Awaits <paramref name="task"/>, failing with a message naming <paramref name="what"/> after the deadline.</summary>
    public static Task Within(this Task task, string what, TimeSpan? deadline = null) => task.Within(() => what, deadline);

    /// <summary>Awaits <paramref name="task"/>, failing with a message (built at the deadline) naming what it waited for.</summary>
    public static async Task Within(this Task task, Func<string> what, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(what);
        try
        {
            await task.WaitAsync(deadline ?? Default).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {(deadline ?? Default).TotalSeconds:0.#} s waiting for: {what()}.");
        }
    }

    /// <summary>Awaits <paramref name="task"/>, failing with a message naming <paramref name="what"/> after the deadline.</summary>
    public static Task<T> Within<T>(this Task<T> task, string what, TimeSpan? deadline = null) => task.Within(() => what, deadline);

    /// <summary>Awaits <paramref name="task"/>, failing with a message (built at the deadline) naming what it waited for.</summary>
    public static async Task<T> Within<T>(this Task<T> task, Func<string> what, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(what);
        try
        {
            return await task.WaitAsync(deadline ?? Default).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {(deadline ?? Default).TotalSeconds:0.#} s waiting for: {what()}.");
        }
    }

    /// <summary>Awaits <paramref name="task"/> with a deadline.</summary>
    public static Task<T> Within<T>(this ValueTask<T> task, string what, TimeSpan? deadline = null) =>
        task.AsTask().Within(what, deadline);

    /// <summary>Awaits <paramref name="task"/> with a deadline.</summary>
    public static Task Within(this ValueTask task, string what, TimeSpan? deadline = null) =>
        task.AsTask().Within(what, deadline);

    /// <summary>Blocks until the event is set (for use inside steps, which may block); fails after the deadline.</summary>
    public static void WaitOrFail(this ManualResetEventSlim signal, string what, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (!signal.Wait(deadline ?? Default))
        {
            throw new TimeoutException($"Timed out waiting for: {what}.");
        }
    }

    /// <summary>Blocks until the semaphore is entered (for use inside steps); fails after the deadline.</summary>
    public static void WaitOrFail(this SemaphoreSlim signal, string what, TimeSpan? deadline = null)
    {
        ArgumentNullException.ThrowIfNull(signal);
        if (!signal.Wait(deadline ?? Default))
        {
            throw new TimeoutException($"Timed out waiting for: {what}.");
        }
    }

    /// <summary>A token cancelled after the deadline.</summary>
    public static CancellationToken Token(TimeSpan? deadline = null) => new CancellationTokenSource(deadline ?? Default).Token;
}
