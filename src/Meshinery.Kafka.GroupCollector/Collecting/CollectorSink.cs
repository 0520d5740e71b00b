using Confluent.Kafka;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>An event read from the internal topic, with the partition whose <see cref="GroupTable"/> it belongs to.</summary>
internal sealed record RoutedEvent(int Partition, GroupEvent Event);

/// <summary>A record for a Kafka topic: its key and value (a <see langword="null"/> value is a tombstone).</summary>
internal sealed record KeyedBytes(string Key, byte[]? Value)
{
    /// <summary>Writes <see cref="Value"/> as it is.</summary>
    public static ISerializer<KeyedBytes> Serializer { get; } = new ValueSerializer();

    private sealed class ValueSerializer : ISerializer<KeyedBytes>
    {
        public byte[] Serialize(KeyedBytes data, SerializationContext context) => data.Value!;
    }
}

/// <summary>
/// Applies an event to its group and makes the decision durable, in this order: the group's new state to the changelog,
/// then the result event (if any) to the output topic, then the changelog record that says the result is written.
/// The engine commits the event's offset only after all of them are acknowledged. So a crash before the result is
/// written leaves a restorable "result not yet written" state (written by the next owner), and the one window that can
/// duplicate a result is between the result's acknowledgement and the next record's (see docs/group-collector.md).
/// </summary>
internal sealed class CollectorSink : OutputSink<RoutedEvent>
{
    private readonly CollectorState _state;
    private readonly KafkaOutput<KeyedBytes> _changelog;
    private readonly KafkaOutput<KeyedBytes> _results;

    public CollectorSink(CollectorState state)
        : base($"{state.Options.Name}.collector")
    {
        _state = state;
        var options = state.Options;
        _changelog = new KafkaOutput<KeyedBytes>(options.ChangelogTopicName, o => Configure(o, options));
        _results = new KafkaOutput<KeyedBytes>(options.OutputTopicName, o => Configure(o, options));
    }

    public override async ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _state.Initialize(context);
        await _changelog.StartAsync(context, cancellationToken).ConfigureAwait(false);
        await _results.StartAsync(context, cancellationToken).ConfigureAwait(false);
    }

    public override async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        await _results.StopAsync(cancellationToken).ConfigureAwait(false);
        await _changelog.StopAsync(cancellationToken).ConfigureAwait(false);
        _state.Dispose(); // its meter (when not from the application's IMeterFactory) and the expiry timer
    }

    /// <summary>Both topics' output settings, checked at engine build like any Kafka output's.</summary>
    public override IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services) =>
        _changelog.Validate(services).Concat(_results.Validate(services));

    public override bool IsTransient(Exception exception) => _changelog.IsTransient(exception);

    // IsNonBlocking stays false although both inner outputs are non-blocking: a write takes its group table's lock,
    // which other runs' writes, expiries and revocations hold, so it may wait.

    public override async ValueTask WriteAsync(RoutedEvent item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var groupId = item.Event.GroupId;
        var logger = _state.Logger;
        using var scope = CollectorLog.GroupScope(logger, groupId);
        if (_state.Table(item.Partition) is not { } table)
        {
            // Lost or revoked: the input ignores this run's acknowledgement, and the next owner reads the event again.
            CollectorLog.NotOwned(logger, _state.Options.Name, item.Partition);
            return;
        }

        Decision decision;
        ValueTask changelogWrite = default;
        lock (table.Gate)
        {
            decision = table.Apply(item.Event, _state.Time.GetUtcNow());
            if (decision.WriteChangelog)
            {
                // Enqueued under the lock: the producer keeps a partition's order, so the group's last record is its state.
                changelogWrite = _changelog.WriteAsync(new KeyedBytes(groupId, decision.Changelog), cancellationToken);
            }

            Schedule(decision.Group, groupId);
        }

        try
        {
            await changelogWrite.ConfigureAwait(false);
        }
        catch
        {
            lock (table.Gate)
            {
                table.MarkDirty(groupId);
                table.EmitFailed(groupId);
            }

            throw;
        }

        if (decision.Result is null)
        {
            return;
        }

        try
        {
            await _results.WriteAsync(new KeyedBytes(groupId, decision.Result), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (table.Gate)
            {
                table.EmitFailed(groupId);
            }

            throw;
        }

        ValueTask markerWrite = default;
        lock (table.Gate)
        {
            if (table.MarkEmitted(groupId) is { } marker)
            {
                markerWrite = _changelog.WriteAsync(new KeyedBytes(groupId, marker), cancellationToken);
            }

            Schedule(table.Find(groupId), groupId);
        }

        try
        {
            await markerWrite.ConfigureAwait(false);
        }
        catch
        {
            lock (table.Gate)
            {
                table.MarkDirty(groupId);
            }

            throw;
        }
    }

    private static void Configure(KafkaOutputOptions<KeyedBytes> output, GroupCollectorOptions options)
    {
        output.BootstrapServers = options.BootstrapServers;
        output.Key = record => record.Key;
        output.Serializer = KeyedBytes.Serializer;
    }

    private void Schedule(GroupState? group, string groupId)
    {
        if (group is null)
        {
            _state.Expiries.Remove(groupId);
        }
        else
        {
            _state.Expiries.Set(groupId, group.Deadline(_state.Options, _state.Time.GetUtcNow()));
        }
    }
}
