using System.Globalization;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// How a <see cref="KafkaInput{T}"/> gets its partitions: from the consumer group (a group protocol, optionally with
/// static membership), or chosen by the instance itself without group management (static or custom assignment;
/// offsets are still committed to the group). See docs/topologies.md for the trade-offs.
/// </summary>
public abstract class PartitionAssignment
{
    private protected PartitionAssignment()
    {
    }

    /// <summary>Group protocol <c>range</c> (eager): per topic, contiguous ranges of partitions; with topics of equal counts, partition <c>i</c> of each goes to the same member.</summary>
    public static PartitionAssignment Range { get; } = new GroupAssignment("range", null);

    /// <summary>Group protocol <c>roundrobin</c> (eager): all partitions of all topics dealt out one by one.</summary>
    public static PartitionAssignment RoundRobin { get; } = new GroupAssignment("roundrobin", null);

    /// <summary>
    /// Group protocol <c>cooperative-sticky</c> (incremental): a rebalance revokes only the partitions that move, and
    /// partitions stay where they were when they can.
    /// </summary>
    public static PartitionAssignment CooperativeSticky { get; } = new GroupAssignment("cooperative-sticky", null);

    /// <summary>
    /// Static membership: the instance keeps its partitions while it is away (a restart within the consumer's
    /// <c>session.timeout.ms</c> moves nothing); after that timeout the group reassigns them. Each input gets its own
    /// <c>group.instance.id</c>, <c>{instanceId}-{input name}</c>, so several inputs of one instance never fence each other.
    /// </summary>
    /// <param name="instanceId">This instance's stable identity (for example the host or pod name); unique in the group.</param>
    /// <param name="protocol">The group protocol. Default: <see cref="Range"/>.</param>
    /// <returns>The assignment.</returns>
    public static PartitionAssignment StaticMembership(string instanceId, PartitionAssignment? protocol = null) =>
        new GroupAssignment(((protocol ?? Range) as GroupAssignment ?? throw new ArgumentException("Static membership needs a group protocol (Range, RoundRobin or CooperativeSticky).", nameof(protocol))).Strategy, instanceId);

    /// <summary>
    /// Static assignment: the input reads exactly these partitions, without group management (no rebalance ever;
    /// nobody takes them over while the instance is away). Offsets are committed to the input's group. A partition
    /// that does not exist fails the start naming it.
    /// </summary>
    /// <param name="partitions">The partitions, of the input's topics.</param>
    /// <returns>The assignment.</returns>
    public static PartitionAssignment Static(params IReadOnlyList<TopicPartition> partitions)
    {
        ArgumentNullException.ThrowIfNull(partitions);
        return new ManualAssignment(
            string.Join(", ", partitions.Select(KafkaFormat.Partition)), _ => partitions, [.. partitions], isStatic: true);
    }

    /// <summary>
    /// Custom assignment without group management: <paramref name="choose"/> is given every partition of the input's
    /// topics (from the cluster's metadata, at start) and returns this instance's.
    /// </summary>
    /// <param name="choose">Picks this instance's partitions.</param>
    /// <returns>The assignment.</returns>
    public static PartitionAssignment Custom(Func<IReadOnlyList<TopicPartition>, IReadOnlyList<TopicPartition>> choose)
    {
        ArgumentNullException.ThrowIfNull(choose);
        return new ManualAssignment("custom", choose, [], isStatic: false);
    }

    /// <summary>
    /// Custom assignment by instance index: instance <paramref name="index"/> of <paramref name="count"/> reads the
    /// partitions whose number modulo <paramref name="count"/> is <paramref name="index"/>, of every topic (so partition
    /// <c>i</c> of copartitioned topics is read by one instance).
    /// </summary>
    /// <param name="index">This instance's index, from 0.</param>
    /// <param name="count">How many instances there are.</param>
    /// <returns>The assignment.</returns>
    public static PartitionAssignment ByInstance(int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        return new ManualAssignment(
            string.Create(CultureInfo.InvariantCulture, $"instance {index} of {count}"),
            all => [.. all.Where(p => p.Partition.Value % count == index)],
            [],
            isStatic: false);
    }

    /// <summary>Whether partition <c>i</c> of every topic always goes to the same instance under this assignment.</summary>
    internal abstract bool KeepsPartitionNumbersTogether { get; }
}

/// <summary>Partitions from the consumer group.</summary>
internal sealed class GroupAssignment(string strategy, string? instanceId) : PartitionAssignment
{
    public string Strategy { get; } = strategy;

    public string? InstanceId { get; } = instanceId;

    internal override bool KeepsPartitionNumbersTogether => Strategy == "range";

    public void Configure(ConsumerConfig config, string input)
    {
        config.Set("partition.assignment.strategy", Strategy);
        if (InstanceId is not null)
        {
            config.GroupInstanceId = $"{InstanceId}-{input}";
        }
    }

    public override string ToString() => InstanceId is null ? Strategy : $"static membership '{InstanceId}' ({Strategy})";
}

/// <summary>Partitions chosen by the instance, without group management.</summary>
internal sealed class ManualAssignment(
    string description, Func<IReadOnlyList<TopicPartition>, IReadOnlyList<TopicPartition>> choose, IReadOnlyList<TopicPartition> named, bool isStatic)
    : PartitionAssignment
{
    /// <summary>A static assignment (named partitions), as opposed to a custom one (a function).</summary>
    public bool IsStatic { get; } = isStatic;

    /// <summary>The partitions named up front (a static assignment), checked against the input's topics at build.</summary>
    public IReadOnlyList<TopicPartition> Named { get; } = named;

    // Checked on the chosen partitions at start instead (see KafkaInputStart).
    internal override bool KeepsPartitionNumbersTogether => true;

    public IReadOnlyList<TopicPartition> Choose(IReadOnlyList<TopicPartition> all) => choose(all);

    public override string ToString() => description;
}
