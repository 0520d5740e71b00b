using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>What applying one event decided: the changelog record to write (a tombstone when its value is null) and the result event to write after it.</summary>
/// <param name="Group">The group the event was about, or <see langword="null"/> when it is unknown or was forgotten.</param>
/// <param name="WriteChangelog">Whether to write <paramref name="Changelog"/> (null: a tombstone).</param>
/// <param name="Changelog">The group's state after the event.</param>
/// <param name="Result">The result event, to write once the changelog record is durable.</param>
internal readonly record struct Decision(GroupState? Group, bool WriteChangelog, byte[]? Changelog, byte[]? Result);

/// <summary>
/// The groups of one partition of the internal topic, and the rules of the seed: success when every expected entity
/// is done without error, failure at the first error or when the time-to-live passes, one result per group, repeated
/// events change nothing. Pure: no I/O; the caller holds <see cref="Gate"/> and writes what the decision says.
/// </summary>
internal sealed class GroupTable
{
    private readonly Dictionary<string, GroupState> _groups = new(StringComparer.Ordinal);
    private readonly GroupCollectorOptions _options;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger _logger;

    public GroupTable(int partition, GroupCollectorOptions options, CollectorMetrics metrics, ILogger logger)
    {
        Partition = partition;
        _options = options;
        _metrics = metrics;
        _logger = logger;
    }

    public int Partition { get; }

    /// <summary>Held while applying an event and while enqueueing its changelog write, so that records of a group are written in the order they were decided.</summary>
    public Lock Gate { get; } = new();

    public int OpenCount { get; private set; }

    public int Count => _groups.Count;

    public IReadOnlyCollection<GroupState> Groups => _groups.Values;

    public GroupState? Find(string groupId) => _groups.GetValueOrDefault(groupId);

    /// <summary>Applies one event at <paramref name="now"/> (the engine's clock).</summary>
    public Decision Apply(GroupEvent groupEvent, DateTimeOffset now)
    {
        var (group, changed) = groupEvent switch
        {
            GroupCreate create => ApplyCreate(create, now),
            EntityDone done => ApplyDone(done, now),
            GroupTick tick => ApplyTick(tick, now),
            _ => throw new ArgumentOutOfRangeException(nameof(groupEvent), groupEvent, "Unknown group event."),
        };

        if (group is null)
        {
            return changed ? new Decision(null, WriteChangelog: true, Changelog: null, Result: null) : default; // forgotten: tombstone
        }

        byte[]? result = null;
        if (group.Status == GroupStatus.Resolved && group.Result is not null && !group.Emitted && !group.EmitInFlight)
        {
            if (!changed)
            {
                CollectorLog.ResultReemitted(_logger, group.Id); // restored undelivered, or its last write failed
            }

            group.EmitInFlight = true;
            result = group.Result;
        }

        if (!changed && !group.Dirty)
        {
            return new Decision(group, false, null, result);
        }

        group.Dirty = false;
        return new Decision(group, true, ChangelogCodec.Encode(group), result);
    }

    /// <summary>The result is durable: the group needs only to be remembered now; returns its changelog record.</summary>
    public byte[]? MarkEmitted(string groupId)
    {
        if (Find(groupId) is not { } group)
        {
            return null;
        }

        group.Emitted = true;
        group.EmitInFlight = false;
        group.Shrink();
        return ChangelogCodec.Encode(group);
    }

    /// <summary>Writing the result failed: the next event of the group (the engine's retry of this one) writes it again.</summary>
    public void EmitFailed(string groupId)
    {
        if (Find(groupId) is { } group)
        {
            group.EmitInFlight = false;
        }
    }

    /// <summary>Writing the changelog failed: the next event of the group writes its state again.</summary>
    public void MarkDirty(string groupId)
    {
        if (Find(groupId) is { } group)
        {
            group.Dirty = true;
        }
    }

    /// <summary>Applies one changelog record while restoring (the last record of a key wins; no value forgets the group).</summary>
    public void Restore(string groupId, byte[]? value)
    {
        if (_groups.Remove(groupId, out var previous) && previous.IsOpen)
        {
            OpenCount--;
        }

        if (value is null)
        {
            return;
        }

        var group = ChangelogCodec.Decode(groupId, value);
        _groups[groupId] = group;
        if (group.IsOpen)
        {
            OpenCount++;
        }
    }

    private (GroupState? Group, bool Changed) ApplyCreate(GroupCreate create, DateTimeOffset now)
    {
        var group = Find(create.GroupId);
        if (group is null)
        {
            group = new GroupState(create.GroupId);
            Fill(group, create, now);
            if (_metrics.Open >= _options.MaxOpenGroups)
            {
                _metrics.Rejected.Add(1, _metrics.Tag);
                CollectorLog.GroupRejected(_logger, group.Id, _metrics.Open);
                _groups[group.Id] = group;
                Resolve(group, ResultEvents.Failure(group, $"The group collector has {_options.MaxOpenGroups} groups open (MaxOpenGroups); group rejected", timedOutOrRejected: true), now, counted: false);
                return (group, true);
            }

            _groups[group.Id] = group;
            Opened();
            _metrics.Created.Add(1, _metrics.Tag);
            CollectorLog.GroupCreated(_logger, group.Id, group.Expected.Count, group.TtlSeconds);
            return (group, true);
        }

        if (group.Status != GroupStatus.AwaitingCreate)
        {
            Ignore(group, group.Status == GroupStatus.Open ? "repeated create" : "create of a resolved group");
            return (group, false);
        }

        Fill(group, create, now);
        group.Status = GroupStatus.Open;
        _metrics.Created.Add(1, _metrics.Tag);
        CollectorLog.GroupCreated(_logger, group.Id, group.Expected.Count, group.TtlSeconds);
        var expected = new HashSet<string>(group.Expected, StringComparer.Ordinal);
        foreach (var entity in group.Done.Keys.Where(e => !expected.Contains(e)).ToList())
        {
            group.Done.Remove(entity);
            Unexpected(group, entity);
        }

        Evaluate(group, now);
        return (group, true);
    }

    private static void Fill(GroupState group, GroupCreate create, DateTimeOffset now)
    {
        group.Expected = create.Expected;
        group.TtlSeconds = create.TtlSeconds;
        group.Payload = create.Payload;
        group.Created = now;
    }

    private (GroupState? Group, bool Changed) ApplyDone(EntityDone done, DateTimeOffset now)
    {
        var outcome = new EntityOutcome(done.Result, done.Error);
        var group = Find(done.GroupId);
        if (group is null)
        {
            if (_metrics.Open >= _options.MaxOpenGroups)
            {
                throw new InvalidGroupEventException(
                    $"Done of entity '{done.EntityId}' for unknown group '{done.GroupId}': the collector has {_options.MaxOpenGroups} groups open (MaxOpenGroups) and cannot keep it until the create arrives.");
            }

            group = new GroupState(done.GroupId) { Status = GroupStatus.AwaitingCreate, Created = now };
            group.Done[done.EntityId] = outcome;
            _groups[group.Id] = group;
            Opened();
            CollectorLog.DoneBeforeCreate(_logger, group.Id, done.EntityId, _options.OrphanWait);
            return (group, true);
        }

        switch (group.Status)
        {
            case GroupStatus.Resolved:
                Ignore(group, $"done of entity '{done.EntityId}' after the group was resolved");
                return (group, false);
            case GroupStatus.AwaitingCreate:
                if (!group.Done.TryAdd(done.EntityId, outcome))
                {
                    Ignore(group, $"repeated done of entity '{done.EntityId}'");
                    return (group, false);
                }

                CollectorLog.DoneBeforeCreate(_logger, group.Id, done.EntityId, _options.OrphanWait);
                return (group, true);
            default:
                if (!group.Expected.Contains(done.EntityId, StringComparer.Ordinal))
                {
                    Unexpected(group, done.EntityId);
                    return (group, false);
                }

                if (!group.Done.TryAdd(done.EntityId, outcome))
                {
                    Ignore(group, $"repeated done of entity '{done.EntityId}'");
                    return (group, false);
                }

                Evaluate(group, now);
                return (group, true);
        }
    }

    private (GroupState? Group, bool Changed) ApplyTick(GroupTick tick, DateTimeOffset now)
    {
        if (Find(tick.GroupId) is not { } group)
        {
            return (null, false);
        }

        if (now < group.Deadline(_options, now) || group.NeedsEmit)
        {
            return (group, false); // early (the deadline is checked on this clock), or only the result is to be written again
        }

        switch (group.Status)
        {
            case GroupStatus.Open:
                _metrics.TimedOut.Add(1, _metrics.Tag);
                CollectorLog.GroupTimedOut(_logger, group.Id, group.TtlSeconds, group.Done.Count, group.Expected.Count);
                Resolve(group, ResultEvents.Failure(group, ResultEvents.TimeoutError(group.TtlSeconds), timedOutOrRejected: true), now, counted: true);
                return (group, true);
            case GroupStatus.AwaitingCreate:
                _metrics.OrphansExpired.Add(1, _metrics.Tag);
                CollectorLog.OrphansExpired(_logger, group.Id, group.Done.Count, _options.OrphanWait);
                Forget(group);
                return (null, true);
            default:
                if (group.EmitInFlight)
                {
                    return (group, false); // its result is still being written; forgotten at the next tick
                }

                Forget(group);
                return (null, true);
        }
    }

    private void Evaluate(GroupState group, DateTimeOffset now)
    {
        if (group.Done.FirstOrDefault(d => d.Value.Error is not null) is { Value: not null } failed)
        {
            _metrics.Failed.Add(1, _metrics.Tag);
            CollectorLog.GroupFailed(_logger, group.Id, failed.Key, failed.Value.Error!);
            Resolve(group, ResultEvents.Failure(group, failed.Value.Error!, timedOutOrRejected: false), now, counted: true);
        }
        else if (group.Done.Count == group.Expected.Count)
        {
            _metrics.Succeeded.Add(1, _metrics.Tag);
            CollectorLog.GroupSucceeded(_logger, group.Id, group.Done.Count);
            Resolve(group, ResultEvents.Success(group, now), now, counted: true);
        }
    }

    private void Resolve(GroupState group, byte[] result, DateTimeOffset now, bool counted)
    {
        if (counted)
        {
            Closed();
        }

        group.Status = GroupStatus.Resolved;
        group.ResolvedAt = now;
        group.Result = result;
        group.Emitted = false;
    }

    private void Forget(GroupState group)
    {
        if (group.IsOpen)
        {
            Closed();
        }

        _groups.Remove(group.Id);
    }

    private void Opened()
    {
        OpenCount++;
        _metrics.AddOpen(1);
    }

    private void Closed()
    {
        OpenCount--;
        _metrics.AddOpen(-1);
    }

    private void Unexpected(GroupState group, string entity)
    {
        _metrics.Unexpected.Add(1, _metrics.Tag);
        CollectorLog.UnexpectedEntity(_logger, group.Id, entity);
    }

    private void Ignore(GroupState group, string what)
    {
        _metrics.Duplicates.Add(1, _metrics.Tag);
        CollectorLog.Ignored(_logger, group.Id, what);
    }
}
