using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace OrderEnrichment;

/// <summary>
/// --profile: listens to the engine's <c>meshinery.step.duration</c> histogram (the <c>Meshinery</c> meter) and sums
/// up, per step, how long the steps took. Compared with the time a message spends in flight, it shows how much of it
/// is the steps themselves and how much is waiting between them.
/// </summary>
internal sealed class StepProfiler : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, StepTotals> _steps = new(StringComparer.Ordinal);

    public StepProfiler()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Meshinery" && instrument.Name == "meshinery.step.duration")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>The sum of the average durations of the steps every enriched order goes through, in seconds.</summary>
    public double TotalAverageSeconds => _steps.Where(s => s.Key != "dead-letter").Sum(s => s.Value.Average);

    public string Format()
    {
        var text = new StringBuilder("steps (average / max):");
        foreach (var (name, totals) in _steps.OrderBy(s => s.Value.Order))
        {
            text.Append(CultureInfo.InvariantCulture, $" {name} {totals.Average * 1000:F2} / {totals.Max * 1000:F1} ms ({totals.Count:N0});");
        }

        return text.ToString().TrimEnd(';');
    }

    public void Dispose() => _listener.Dispose();

    private void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "meshinery.step" && tag.Value is string step)
            {
                _steps.GetOrAdd(step, static (_, count) => new StepTotals(count), _steps.Count).Add(seconds);
                return;
            }
        }
    }

    private sealed class StepTotals(int order)
    {
        private readonly Lock _gate = new();
        private long _count;
        private double _sum;
        private double _max;

        public int Order { get; } = order;

        public long Count
        {
            get
            {
                lock (_gate)
                {
                    return _count;
                }
            }
        }

        public double Average
        {
            get
            {
                lock (_gate)
                {
                    return _count == 0 ? 0 : _sum / _count;
                }
            }
        }

        public double Max
        {
            get
            {
                lock (_gate)
                {
                    return _max;
                }
            }
        }

        public void Add(double seconds)
        {
            lock (_gate)
            {
                _count++;
                _sum += seconds;
                _max = Math.Max(_max, seconds);
            }
        }
    }
}
