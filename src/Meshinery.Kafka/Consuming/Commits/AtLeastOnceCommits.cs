using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// At least once: every message read is tracked, and a partition's offset is committed only below the oldest message
/// whose run has not ended. The periodic commits are made on the <see cref="CommitThread{T}"/>, so that the consume
/// thread never waits for one; the last commits of partitions let go are made on the consume thread (inside the
/// rebalance handler, or at stop), after their handed-out runs ended and the commit in flight, if any, returned.
/// </summary>
internal sealed class AtLeastOnceCommits<T>(OffsetCommitter committer, CommitThread<T> thread) : CommitPolicy<T>(committer)
{
    public override void Read(PartitionState<T> partition, long offset) => partition.Tracker.Track(offset);

    /// <summary>Everything from the oldest unfinished message to the newest read: what a crash would redeliver.</summary>
    public override int Pending(PartitionState<T> partition) => partition.Tracker.Buffered;

    /// <summary>
    /// The runs already handed out may still finish: wait for them; then for a periodic commit in flight (it may carry
    /// lower offsets of these partitions), then commit what is finished.
    /// </summary>
    public override void LetGo(
        IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<PartitionState<T>> partitions, List<TopicPartitionOffset> untaken, Func<TimeSpan> waitForRuns)
    {
        var budget = thread.Withdraw(partitions, waitForRuns());
        var commits = ToCommit(partitions);
        if (commits.Count > 0)
        {
            CommitRecord.Apply(commits, Committer.CommitLast(consumer, commits.ConvertAll(c => c.Offset), budget));
        }
    }

    /// <summary>Hands the finished offsets to the commit thread; returns at once.</summary>
    public override void CommitFinished(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        var commits = ToCommit(partitions);
        if (commits.Count > 0)
        {
            thread.Offer(consumer, commits);
        }
    }

    /// <summary>Ends the commit thread (after a commit in flight returns, up to <paramref name="timeout"/>).</summary>
    public override void Close(TimeSpan timeout) => thread.Join(timeout);

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
}
