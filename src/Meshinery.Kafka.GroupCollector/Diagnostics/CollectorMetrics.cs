using System.Diagnostics.Metrics;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The collector's metrics, on one <see cref="Meter"/> named <c>Meshinery.Kafka.GroupCollector</c>; every instrument is
/// tagged with <c>meshinery.collector</c> (the collector's name).
/// </summary>
internal sealed class CollectorMetrics : IDisposable
{
    public const string MeterName = "Meshinery.Kafka.GroupCollector";

    private readonly bool _ownsMeter;
    private readonly KeyValuePair<string, object?> _tag;
    private long _open;

    public CollectorMetrics(string collector, IMeterFactory? meterFactory)
    {
        Meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        _ownsMeter = meterFactory is null;
        _tag = new("meshinery.collector", collector);
        Meter.CreateObservableGauge("meshinery.group_collector.groups.open", () => new Measurement<long>(Volatile.Read(ref _open), _tag), "{group}", "Groups open on this instance (including groups whose create has not arrived).");
        Created = Meter.CreateCounter<long>("meshinery.group_collector.groups.created", "{group}", "Groups created.");
        Succeeded = Meter.CreateCounter<long>("meshinery.group_collector.groups.succeeded", "{group}", "Groups resolved with EventGroupCollectorSuccess.");
        Failed = Meter.CreateCounter<long>("meshinery.group_collector.groups.failed", "{group}", "Groups failed by an entity's error.");
        TimedOut = Meter.CreateCounter<long>("meshinery.group_collector.groups.timed_out", "{group}", "Groups failed because their time-to-live passed.");
        Rejected = Meter.CreateCounter<long>("meshinery.group_collector.groups.rejected", "{group}", "Groups failed at once because the instance had MaxOpenGroups open.");
        Unexpected = Meter.CreateCounter<long>("meshinery.group_collector.entities.unexpected", "{entity}", "Done events of entities their group did not expect (ignored).");
        Duplicates = Meter.CreateCounter<long>("meshinery.group_collector.events.ignored", "{event}", "Events that changed nothing: repeated done or create, events of resolved groups.");
        OrphansExpired = Meter.CreateCounter<long>("meshinery.group_collector.orphans.expired", "{group}", "Groups whose done events waited OrphanWait for a create that never came (dropped).");
        Restored = Meter.CreateCounter<long>("meshinery.group_collector.changelog.restored", "{record}", "Changelog records read when partitions were assigned.");
        RestoreDuration = Meter.CreateHistogram<double>("meshinery.group_collector.changelog.restore_duration", "s", "How long restoring one changelog partition took.");
    }

    public Meter Meter { get; }

    public Counter<long> Created { get; }

    public Counter<long> Succeeded { get; }

    public Counter<long> Failed { get; }

    public Counter<long> TimedOut { get; }

    public Counter<long> Rejected { get; }

    public Counter<long> Unexpected { get; }

    public Counter<long> Duplicates { get; }

    public Counter<long> OrphansExpired { get; }

    public Counter<long> Restored { get; }

    public Histogram<double> RestoreDuration { get; }

    public KeyValuePair<string, object?> Tag => _tag;

    /// <summary>Groups open on this instance, across its partitions (what <see cref="GroupCollectorOptions.MaxOpenGroups"/> limits).</summary>
    public long Open => Volatile.Read(ref _open);

    public void AddOpen(long delta) => Interlocked.Add(ref _open, delta);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
