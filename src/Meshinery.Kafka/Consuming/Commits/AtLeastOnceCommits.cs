using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// At least once: every message read is tracked, and a partition's offset is committed only below the oldest message
/// whose run has not ended. Revoked partitions wait for their handed-out runs first.
/// </summary>
internal sealed class AtLeastOnceCommits<T>(OffsetCommitter committer) : CommitPolicy<T>(committer)
{
    public override void Read(PartitionState<T> partition, long offset) => partition.Tracker.Track(offset);

    /// <summary>Everything from the oldest unfinished message to the newest read: what a crash would redeliver.</summary>
    public override int Pending(PartitionState<T> partition) => partition.Tracker.Buffered;

    /// <summary>The runs already handed out may still finish: wait for them, then commit what is finished.</summary>
    public override void LetGo(
        IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<PartitionState<T>> partitions, List<TopicPartitionOffset> untaken, Action waitForRuns)
    {
        waitForRuns();
        CommitFinished(consumer, partitions);
    }

    public override void CommitFinished(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        var commits = new List<(PartitionState<T> Partition, TopicPartitionOffset Offset)>();
        foreach (var partition in partitions)
        {
            if (partition.FinishedOffsetToCommit() is { } offset)
            {
                commits.Add((partition, offset));
            }
        }

        if (commits.Count > 0 && Committer.TryCommit(consumer, commits.ConvertAll(c => c.Offset)))
        {
            foreach (var (partition, offset) in commits)
            {
                partition.Committed(offset.Offset.Value);
            }
        }
    }
}
