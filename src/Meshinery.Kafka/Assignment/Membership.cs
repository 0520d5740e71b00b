using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>How the consume loop joins and leaves: as a group member, or with partitions it assigns itself.</summary>
internal abstract class Membership
{
    /// <summary>Starts reading (consume thread).</summary>
    public abstract void Join(IConsumer<byte[], byte[]> consumer);

    /// <summary>Stops reading, after the last commits, before the consumer closes (consume thread).</summary>
    public abstract void Leave(IConsumer<byte[], byte[]> consumer);
}

/// <summary>A consumer-group member: the group assigns and revokes (through the partition set's handlers).</summary>
internal sealed class GroupMembership(IReadOnlyList<string> topics) : Membership
{
    public override void Join(IConsumer<byte[], byte[]> consumer) => consumer.Subscribe(topics);

    /// <summary>Closing the consumer revokes the partitions, through the partition set's handler.</summary>
    public override void Leave(IConsumer<byte[], byte[]> consumer)
    {
    }
}

/// <summary>
/// Partitions the instance assigned itself (static or custom assignment): no rebalance, so the partition set is told
/// directly, and the same callbacks run as for a group.
/// </summary>
internal sealed class SelfAssigned<T>(IReadOnlyList<TopicPartition> partitions, PartitionSet<T> set) : Membership
{
    public override void Join(IConsumer<byte[], byte[]> consumer)
    {
        set.OnAssigned([.. partitions]);
        consumer.Assign(partitions); // from the group's committed offsets (auto.offset.reset where there are none)
    }

    public override void Leave(IConsumer<byte[], byte[]> consumer)
    {
        set.OnRevoked(consumer, [.. partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset))]);
        consumer.Unassign();
    }
}
