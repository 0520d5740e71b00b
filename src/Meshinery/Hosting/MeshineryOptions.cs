using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Meshinery;

/// <summary>Engine-wide settings. They are validated when the application starts; a bad value fails the start with its name.</summary>
public sealed class MeshineryOptions
{
    /// <summary>
    /// Threads of the shared worker pool on which steps start (blocking steps hold one for their whole duration).
    /// Size it to the number of blocking calls you want at once. Default: 64.
    /// </summary>
    [Range(1, 10_000)]
    public int WorkerThreads { get; set; } = 64;

    /// <summary>Runs in flight across all tasks at most; each task also has its own limit. Default: 10,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxInFlight { get; set; } = 10_000;

    /// <summary>
    /// How long stopping waits for in-flight runs to finish before it cancels them (sooner when the host's shutdown
    /// timeout expires first). Default: 20 s, so that draining, the grace period and the sources' final commits fit in
    /// the host's default shutdown timeout of 30 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long stopping waits, after cancelling the remaining runs, for them to end. Runs still going then (a step
    /// that ignores its token) are not acknowledged. Default: 5 s.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CancellationGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an idle engine polls its inputs anyway. Sources that signal new items (all built-in ones do) are polled
    /// at once; this only bounds the latency of sources that cannot. Default: 250 ms.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan IdlePollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The first wait after a failed input poll or a transient output failure; it doubles per failure. Default: 100 ms.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan ErrorBackoff { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between retries of a failing poll or output write. Default: 30 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MaxErrorBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The random share of each wait before a transient output failure is retried, from 0 to 1: the wait is the
    /// doubling backoff times a random factor between 1 − this and 1. The runs that failed in one outage then do not
    /// all retry at the same instant (in one request that fails again, or in a burst on a recovering broker).
    /// <c>0</c> makes every wait exactly the backoff. Default: <c>0.5</c>.
    /// </summary>
    [Range(0.0, 1.0)]
    public double ErrorBackoffJitter { get; set; } = 0.5;

    /// <summary>
    /// Batch mode: the engine stops by itself once every input is drained (see <see cref="InputSource.IsDrained"/>)
    /// and nothing is in flight. Default: <see langword="false"/> (run until stopped).
    /// </summary>
    public bool StopWhenDrained { get; set; }

    /// <summary>
    /// When the engine stops by itself (batch mode finished, or a fatal error), also stop the host application.
    /// Only used by the hosted service. Default: <see langword="true"/>.
    /// </summary>
    public bool StopApplicationWhenStopped { get; set; } = true;

    /// <summary>The wait after <paramref name="failures"/> failures in a row of a poll or an output write.</summary>
    internal TimeSpan ErrorBackoffAfter(int failures) => Meshinery.Backoff.Exponential(ErrorBackoff, 2, MaxErrorBackoff, failures);

    /// <summary>The wait before a transient output failure is retried: <see cref="ErrorBackoffAfter"/>, jittered.</summary>
    internal TimeSpan OutputRetryDelayAfter(int failures) => Meshinery.Backoff.Jittered(ErrorBackoffAfter(failures), ErrorBackoffJitter, Random.Shared.NextDouble());
}

/// <summary>Validates <see cref="MeshineryOptions"/> at startup (generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class MeshineryOptionsValidator : IValidateOptions<MeshineryOptions>
{
}
