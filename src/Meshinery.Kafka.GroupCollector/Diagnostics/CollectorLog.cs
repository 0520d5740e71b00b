using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>Every log message of the group collector, in one place. Messages about a group are logged in a scope with <c>GroupId</c>.</summary>
internal static partial class CollectorLog
{
    private static readonly Func<ILogger, string, IDisposable?> s_groupScope = LoggerMessage.DefineScope<string>("GroupId:{GroupId}");

    /// <summary>A scope with the group id, for every message about the group.</summary>
    public static IDisposable? GroupScope(ILogger logger, string groupId) => s_groupScope(logger, groupId);

    [LoggerMessage(1000, LogLevel.Debug, "Group {GroupId} created, expecting {Expected} entities within {Ttl} s")]
    public static partial void GroupCreated(ILogger logger, string groupId, int expected, long ttl);

    [LoggerMessage(1001, LogLevel.Information, "Group {GroupId} succeeded: {Count} entities done")]
    public static partial void GroupSucceeded(ILogger logger, string groupId, int count);

    [LoggerMessage(1002, LogLevel.Information, "Group {GroupId} failed: entity {EntityId} reported '{Error}'")]
    public static partial void GroupFailed(ILogger logger, string groupId, string entityId, string error);

    [LoggerMessage(1003, LogLevel.Information, "Group {GroupId} timed out after {Ttl} s with {Done} of {Expected} entities done")]
    public static partial void GroupTimedOut(ILogger logger, string groupId, long ttl, int done, int expected);

    [LoggerMessage(1004, LogLevel.Warning, "Group {GroupId}: entity {EntityId} was not expected; ignored")]
    public static partial void UnexpectedEntity(ILogger logger, string groupId, string entityId);

    [LoggerMessage(1005, LogLevel.Debug, "Group {GroupId}: {What}; nothing changes")]
    public static partial void Ignored(ILogger logger, string groupId, string what);

    [LoggerMessage(1006, LogLevel.Debug, "Group {GroupId}: done of entity {EntityId} arrived before the create; kept for up to {Wait}")]
    public static partial void DoneBeforeCreate(ILogger logger, string groupId, string entityId, TimeSpan wait);

    [LoggerMessage(1007, LogLevel.Warning, "Group {GroupId}: {Count} done event(s) waited {Wait} for a create that did not come; dropped")]
    public static partial void OrphansExpired(ILogger logger, string groupId, int count, TimeSpan wait);

    [LoggerMessage(1008, LogLevel.Warning, "Group {GroupId} rejected: this instance has {Open} groups open (MaxOpenGroups)")]
    public static partial void GroupRejected(ILogger logger, string groupId, long open);

    [LoggerMessage(1009, LogLevel.Information, "Group {GroupId}: writing the result again, restored undelivered from the changelog")]
    public static partial void ResultReemitted(ILogger logger, string groupId);

    [LoggerMessage(1010, LogLevel.Information, "Group collector '{Collector}' restored partition {Partition} of '{Changelog}': {Records} record(s), {Open} open and {Resolved} resolved group(s) in {Elapsed} ms")]
    public static partial void Restored(ILogger logger, string collector, int partition, string changelog, long records, int open, int resolved, long elapsed);

    [LoggerMessage(1011, LogLevel.Information, "Group collector '{Collector}' dropped partition {Partition}: {Open} open group(s) now belong to the next owner")]
    public static partial void Dropped(ILogger logger, string collector, int partition, int open);

    [LoggerMessage(1012, LogLevel.Warning, "Group collector '{Collector}': skipped changelog record {Offset} of partition {Partition}: {Reason}")]
    public static partial void BadChangelogRecord(ILogger logger, string collector, int partition, long offset, string reason);

    [LoggerMessage(1013, LogLevel.Debug, "Group collector '{Collector}': event of partition {Partition}, which this instance no longer owns; its next owner reads it again")]
    public static partial void NotOwned(ILogger logger, string collector, int partition);

    [LoggerMessage(1014, LogLevel.Error, "Group collector '{Collector}' could not restore partition {Partition}; it hands out no more events and the engine stops")]
    public static partial void RestoreFailed(ILogger logger, Exception exception, string collector, int partition);
}
