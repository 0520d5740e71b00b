using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>At least once: records on each partition what a commit committed.</summary>
internal static class CommitRecord
{
    /// <summary>Only what was committed counts as committed: the rest is tried again at the next commit.</summary>
    public static void Apply<T>(List<(PartitionState<T> Partition, TopicPartitionOffset Offset)> commits, CommitResult result)
    {
        var done = result.Committed.Select(o => o.TopicPartition).ToHashSet();
        foreach (var (partition, offset) in commits)
        {
            if (done.Contains(partition.TopicPartition))
            {
                partition.Committed(offset.Offset.Value);
            }
        }
    }
}
