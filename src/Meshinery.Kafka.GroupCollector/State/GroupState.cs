using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>Where a group is in its life.</summary>
internal enum GroupStatus
{
    /// <summary>Created, waiting for its entities.</summary>
    Open,

    /// <summary>Done events arrived before the create; kept until it arrives or <see cref="GroupCollectorOptions.OrphanWait"/> passes.</summary>
    AwaitingCreate,

    /// <summary>Its result was decided; remembered for <see cref="GroupCollectorOptions.ResolvedRetention"/>.</summary>
    Resolved,
}

/// <summary>What one entity reported: a result (any JSON, <see cref="JsonValueKind.Undefined"/> for none) or an error.</summary>
internal sealed record EntityOutcome(JsonElement Result, string? Error);

/// <summary>One group's state; changed only under its <see cref="GroupTable"/>'s lock.</summary>
internal sealed class GroupState
{
    public GroupState(string id)
    {
        Id = id;
    }

    public string Id { get; }

    public GroupStatus Status { get; set; }

    public IReadOnlyList<string> Expected { get; set; } = [];

    public long TtlSeconds { get; set; }

    public JsonElement Payload { get; set; }

    /// <summary>When the create was applied (for a group awaiting its create: when its first done arrived).</summary>
    public DateTimeOffset Created { get; set; }

    /// <summary>The entities that reported, in ordinal order (the order of <c>results</c>).</summary>
    public SortedDictionary<string, EntityOutcome> Done { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset ResolvedAt { get; set; }

    /// <summary>The result event once decided, until it is known to be written (<see cref="Emitted"/>).</summary>
    public byte[]? Result { get; set; }

    /// <summary>The result event is durable in the output topic (and the changelog says so, or is about to).</summary>
    public bool Emitted { get; set; }

    /// <summary>A write of the result is under way; nobody else may start one.</summary>
    public bool EmitInFlight { get; set; }

    /// <summary>The last changelog write of this group failed: the next event of it writes the state again.</summary>
    public bool Dirty { get; set; }

    /// <summary>Counts toward <see cref="GroupCollectorOptions.MaxOpenGroups"/>.</summary>
    public bool IsOpen => Status != GroupStatus.Resolved;

    /// <summary>The result must be written and nobody is writing it (restored after a crash, or its write failed).</summary>
    public bool NeedsEmit => Status == GroupStatus.Resolved && Result is not null && !Emitted && !EmitInFlight;

    /// <summary>When the collector must look at the group again, or <see langword="null"/> when nothing is due.</summary>
    public DateTimeOffset Deadline(GroupCollectorOptions options, DateTimeOffset now) => Status switch
    {
        GroupStatus.Open => Created + TimeSpan.FromSeconds(TtlSeconds),
        GroupStatus.AwaitingCreate => Created + options.OrphanWait,
        _ when NeedsEmit => now,
        _ => ResolvedAt + options.ResolvedRetention,
    };

    /// <summary>Once emitted, a resolved group needs only its id and time: the rest is let go.</summary>
    public void Shrink()
    {
        Expected = [];
        Payload = default;
        Done.Clear();
        Result = null;
    }
}
