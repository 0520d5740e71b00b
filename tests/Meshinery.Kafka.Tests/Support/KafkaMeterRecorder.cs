using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Meshinery.Kafka.Tests.Support;

/// <summary>
/// Listens to the <c>Meshinery.Kafka</c> meter: keeps every counter and histogram measurement, and reads the
/// observable gauges on demand (<see cref="Gauge"/>).
/// </summary>
public sealed class KafkaMeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _recorded = new();
    private readonly ConcurrentDictionary<string, Instrument> _instruments = new();
    private readonly Lock _observeLock = new();
    private List<Recorded>? _observing;

    public KafkaMeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Meshinery.Kafka")
            {
                _instruments[instrument.Name] = instrument;
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Counter and histogram measurements of <paramref name="name"/> so far.</summary>
    public IReadOnlyList<Recorded> Measurements(string name) => [.. _recorded.Where(r => r.Instrument == name)];

    /// <summary>The instrument named <paramref name="name"/>, once published.</summary>
    public Instrument? Instrument(string name) => _instruments.GetValueOrDefault(name);

    /// <summary>Observes the gauges now and returns the values of <paramref name="name"/>.</summary>
    public IReadOnlyList<Recorded> Gauge(string name)
    {
        lock (_observeLock)
        {
            _observing = [];
            _listener.RecordObservableInstruments();
            var observed = _observing;
            _observing = null;
            return [.. observed.Where(r => r.Instrument == name)];
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var recorded = new Recorded(instrument.Name, value, new Dictionary<string, object?>(tags.ToArray()));
        if (instrument.IsObservable)
        {
            _observing?.Add(recorded); // only inside Gauge, under its lock
        }
        else
        {
            _recorded.Enqueue(recorded);
        }
    }

    public sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
    {
        public object? Tag(string key) => Tags.GetValueOrDefault(key);
    }
}
