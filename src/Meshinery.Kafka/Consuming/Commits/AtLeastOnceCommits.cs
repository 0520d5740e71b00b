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
        IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<PartitionState<T>> partitions, List<TopicPartitionOffset> untaken, Func<TimeSpan> waitForRuns)
    {
        var budget = waitForRuns();
        var commits = ToCommit(partitions);
        if (commits.Count > 0)
        {
            Record(commits, Committer.CommitLast(consumer, commits.ConvertAll(c => c.Offset), budget));
        }
    }

    public override void CommitFinished(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        var commits = ToCommit(partitions);
        if (commits.Count > 0)
        {
            Record(commits, Committer.TryCommit(consumer, commits.ConvertAll(c => c.Offset)));
        }
    }

    private static List<(PartitionState<T> Partition, TopicPartitionOffset Offset)> ToCommit(IEnumerable<PartitionState<T>> partitions)
    {
        var commits = new List<(PartitionState<T> Partition, TopicPartitionOffset Offset)>();
        foreach (var partition in partitions)
        {
            if (partition.FinishedOffsetToCommit() is { } offset)
            {
                commits.Add((partition, offset));
            }
        }

        return commits;
    }

    /// <summary>Only what was committed counts as committed: the rest is tried again at the next commit.</summary>
    private static void Record(List<(PartitionState<T> Partition, TopicPartitionOffset Offset)> commits, CommitResult result)
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
