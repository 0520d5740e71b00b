using System.Diagnostics;
using System.Globalization;
using Meshinery;
using Meshinery.Kafka;
using Microsoft.Extensions.Hosting;

namespace OrderEnrichment;

/// <summary>Why the sample stopped by itself.</summary>
internal enum StopReason
{
    /// <summary>Not by itself: Ctrl+C, SIGTERM, or the engine stopped (a fatal error).</summary>
    None,

    /// <summary>Embedded mode: every seeded message was handled.</summary>
    AllSeededHandled,

    /// <summary>--exit-when-idle: nothing arrived for that long and nothing was in flight.</summary>
    Idle,
}

/// <summary>
/// Watches the engine every 50 ms: writes the progress line (stderr, every 500 ms), measures the average number of
/// messages in flight, and decides when the sample is done, then stops the application (which stops the engine: it
/// drains, and the Kafka input commits its final offsets).
/// </summary>
internal sealed class RunMonitor(
    MeshineryEngine engine,
    string taskName,
    KafkaInput<Order> input,
    Observations observations,
    SampleSettings settings,
    IHostApplicationLifetime lifetime,
    TextWriter progress)
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_progressInterval = TimeSpan.FromMilliseconds(500);

    // The integral of in-flight runs over time, up to the last tick on which a run finished: divided by that time it
    // is the average number in flight while work was going on (Little's law: L = throughput × time in flight).
    private double _inFlightSeconds;
    private double _inFlightSecondsAtLastFinish;
    private long _lastFinishTick;

    public StopReason Reason { get; private set; }

    /// <summary>The average number of messages in flight from the first one started to the last one finished.</summary>
    public double AverageInFlight
    {
        get
        {
            var first = observations.FirstStartedAt;
            if (first == 0 || _lastFinishTick <= first)
            {
                return 0;
            }

            return _inFlightSecondsAtLastFinish / Stopwatch.GetElapsedTime(first, _lastFinishTick).TotalSeconds;
        }
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(s_tick);
        var startedAt = Stopwatch.GetTimestamp();
        var lastTick = startedAt;
        var lastProgressAt = startedAt;
        var lastProgressFinished = 0L;
        var lastFinished = 0L;
        var lastStarted = 0L;
        var lastActivityAt = 0L; // 0 until the first partition assignment
        var expected = (long)settings.SeedCount + settings.SeedInvalid;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false) && !engine.Completion.IsCompleted)
            {
                var stats = engine.GetStatistics(taskName);
                var now = Stopwatch.GetTimestamp();
                if (observations.FirstStartedAt != 0)
                {
                    _inFlightSeconds += stats.InFlight * Stopwatch.GetElapsedTime(lastTick, now).TotalSeconds;
                }

                lastTick = now;
                if (stats.Finished != lastFinished)
                {
                    lastFinished = stats.Finished;
                    _inFlightSecondsAtLastFinish = _inFlightSeconds;
                    _lastFinishTick = now;
                }

                if (Stopwatch.GetElapsedTime(lastProgressAt, now) >= s_progressInterval)
                {
                    var rate = (stats.Finished - lastProgressFinished) / Stopwatch.GetElapsedTime(lastProgressAt, now).TotalSeconds;
                    progress.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"progress {Stopwatch.GetElapsedTime(startedAt, now).TotalSeconds,6:F1} s: processed {stats.Completed:N0}, failed {stats.Failed:N0}, in flight {stats.InFlight:N0}, {rate:N0} msgs/s, partitions {input.AssignedPartitions} ({input.PausedPartitions} paused)"));
                    lastProgressAt = now;
                    lastProgressFinished = stats.Finished;
                }

                if (settings.ExitWhenIdle is { } idle)
                {
                    if (lastActivityAt == 0 && input.AssignedPartitions > 0)
                    {
                        lastActivityAt = now;
                    }

                    if (stats.Started != lastStarted)
                    {
                        lastStarted = stats.Started;
                        lastActivityAt = lastActivityAt == 0 ? 0 : now;
                    }

                    if (lastActivityAt != 0 && input.AssignedPartitions == 0)
                    {
                        // Time without partitions (lost in an outage, moved in a rebalance) is not idleness: the
                        // instance waits for them to come back instead of exiting with work still to do.
                        lastActivityAt = now;
                    }

                    if (lastActivityAt != 0 && stats.InFlight == 0 && Stopwatch.GetElapsedTime(lastActivityAt, now) >= idle)
                    {
                        Stop(StopReason.Idle);
                        return;
                    }
                }
                else if (settings.IsEmbedded && stats.Finished >= expected && stats.InFlight == 0)
                {
                    Stop(StopReason.AllSeededHandled);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The application is stopping for another reason.
        }
    }

    private void Stop(StopReason reason)
    {
        Reason = reason;
        lifetime.StopApplication(); // the engine stops with the host: drain, final commit, flush
    }
}
