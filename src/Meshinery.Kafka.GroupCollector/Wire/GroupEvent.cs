using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>One event of a group, as read from the collector's topics.</summary>
/// <param name="GroupId">The group the event belongs to (a create's <c>id</c>, a done's <c>group</c>).</param>
internal abstract record GroupEvent(string GroupId);

/// <summary><c>EventGroupCollectorCreate</c>: opens a group that waits for <paramref name="Expected"/>.</summary>
internal sealed record GroupCreate(string GroupId, IReadOnlyList<string> Expected, long TtlSeconds, JsonElement Payload) : GroupEvent(GroupId);

/// <summary><c>EventGroupCollectorEntityDone</c>: one entity finished, with a result or an error.</summary>
internal sealed record EntityDone(string GroupId, string EntityId, JsonElement Result, string? Error) : GroupEvent(GroupId);

/// <summary>The collector's own "look at this group now" event (its deadline may have passed), only on the internal topic.</summary>
internal sealed record GroupTick(string GroupId) : GroupEvent(GroupId);

/// <summary>The event type names of the seed, and the collector's internal tick.</summary>
internal static class EventTypes
{
    public const string Create = "EventGroupCollectorCreate";
    public const string EntityDone = "EventGroupCollectorEntityDone";
    public const string Success = "EventGroupCollectorSuccess";
    public const string Failure = "EventGroupCollectorFailure";
    public const string Tick = "MeshineryGroupCollectorTick";
}
