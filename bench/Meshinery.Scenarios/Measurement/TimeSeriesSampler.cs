using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace Meshinery.Scenarios.Measurement;

/// <summary>One sample of a run over time: seconds since the sampler started, worker threads, outputs acknowledged, process threads.</summary>
internal sealed record SeriesSample(double Seconds, long Workers, long Acked, int Threads);

/// <summary>
/// Samples, at a fixed interval, the engine's <c>meshinery.workers.size</c> gauge (summed over the task pools, through a
/// <see cref="MeterListener"/>), the probe's acknowledged outputs and the process's thread count.
/// </summary>
internal sealed class TimeSeriesSampler : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly RunProbe _probe;
    private readonly TimeSpan _interval;
    private readonly List<SeriesSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private long _workers;
    private Task? _run;

    public TimeSeriesSampler(RunProbe probe, TimeSpan interval)
    {
        _probe = probe;
        _interval = interval;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "meshinery.workers.size")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            // The task's own pools only: the engine's shared pool ("worker") is fixed and unused by a task with a pool.
            foreach (var tag in tags)
            {
                if (tag is { Key: "meshinery.pool", Value: "worker" })
                {
                    return;
                }
            }

            _workers += value;
        });
        _listener.Start();
    }

    public void Start() => _run ??= Task.Run(RunAsync);

    public async Task<IReadOnlyList<SeriesSample>> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        return _samples;
    }

    public void Dispose()
    {
        _listener.Dispose();
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(_interval);
        try
        {
            do
            {
                _workers = 0;
                _listener.RecordObservableInstruments(); // calls back synchronously, on this thread
                _samples.Add(new SeriesSample(Stopwatch.GetElapsedTime(started).TotalSeconds, _workers, _probe.Acked, ProcessThreads()));
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static int ProcessThreads()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(8).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
