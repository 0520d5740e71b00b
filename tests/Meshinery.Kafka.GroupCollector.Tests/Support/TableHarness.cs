using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Meshinery.Kafka.GroupCollector.Tests.Support;

/// <summary>A <see cref="GroupTable"/> on a fake clock, with its meter and a fake logger, fed with raw event JSON.</summary>
public sealed class TableHarness : IDisposable
{
    private readonly GroupEventParser _parser;

    public TableHarness(Action<GroupCollectorOptions>? configure = null)
    {
        Options = new GroupCollectorOptions { Name = $"table-{Guid.NewGuid():N}" };
        configure?.Invoke(Options);
        Options.Validate();
        _parser = new GroupEventParser(Options.DefaultTtl, Options.MaxTtl, Options.MaxExpectedEntities);
        Metrics = new CollectorMetrics(Options.Name, meterFactory: null);
        Table = new GroupTable(0, Options, Metrics, Logger);
    }

    public GroupCollectorOptions Options { get; }

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2020, 7, 17, 22, 36, 26, 402, TimeSpan.Zero));

    public FakeLogger Logger { get; } = new();

    internal CollectorMetrics Metrics { get; }

    internal GroupTable Table { get; }

    /// <summary>Every result the table decided, in order (as written: the result, then MarkEmitted).</summary>
    public List<JsonElement> Results { get; } = [];

    /// <summary>The last changelog record per group (null: a tombstone), as a compacted changelog would hold it.</summary>
    public Dictionary<string, byte[]?> Changelog { get; } = new(StringComparer.Ordinal);

    public static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    /// <summary>Applies one event and performs its decision as the sink does, all writes succeeding.</summary>
    internal Decision Apply(string json) => Apply(_parser.Parse(Bytes(json), internalTopic: true)!);

    internal Decision Tick(string groupId) => Apply(new GroupTick(groupId));

    internal Decision Apply(GroupEvent groupEvent, bool emit = true)
    {
        var decision = Table.Apply(groupEvent, Clock.GetUtcNow());
        if (decision.WriteChangelog)
        {
            Changelog[groupEvent.GroupId] = decision.Changelog;
        }

        if (decision.Result is not null && emit)
        {
            Results.Add(JsonDocument.Parse(decision.Result).RootElement.Clone());
            Changelog[groupEvent.GroupId] = Table.MarkEmitted(groupEvent.GroupId);
        }

        return decision;
    }

    /// <summary>The deadline the collector would schedule for the group.</summary>
    internal DateTimeOffset Deadline(string groupId) => Table.Find(groupId)!.Deadline(Options, Clock.GetUtcNow());

    /// <summary>A new table restored from <see cref="Changelog"/>, as the next owner of the partition would build it.</summary>
    internal GroupTable Restore()
    {
        var table = new GroupTable(0, Options, Metrics, Logger);
        foreach (var (group, value) in Changelog)
        {
            table.Restore(group, value);
        }

        return table;
    }

    public void Dispose() => Metrics.Dispose();
}
