using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// At most once: the read offsets are committed before the engine sees the messages. When partitions are let go or
/// the input stops, messages read but never taken would be lost; committing the offset of the first of them again
/// (Kafka accepts a lower offset) hands them to the next reader instead, so only runs already started can be lost.
/// </summary>
internal sealed class AtMostOnceCommits<T>(OffsetCommitter committer, HandOutRotation<T> rotation, WaitSignal stopRequested)
    : CommitPolicy<T>(committer)
{
    private static readonly TimeSpan s_retry = TimeSpan.FromSeconds(1);

    public override void Read(PartitionState<T> partition, long offset)
    {
    }

    /// <summary>What is read but not yet taken by the engine.</summary>
    public override int Pending(PartitionState<T> partition) => rotation.Waiting(partition) + partition.Unpublished;

    public override void BeforeHandOut(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        var offsets = items
            .GroupBy(i => i.Partition)
            .Select(g => new TopicPartitionOffset(g.Key.TopicPartition, new Offset(g.Max(i => i.Item.Position.Offset) + 1)))
            .ToList();

        // The engine must not see the messages before they are committed; a stop ends the retries.
        while (!Committer.TryCommit(consumer, offsets).AllCommitted && !stopRequested.Wait(s_retry))
        {
        }
    }

    /// <summary>Nothing to do: the reads were committed already.</summary>
    public override void CommitFinished(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
    }

    /// <summary>Commits the first untaken offsets again; runs already handed out were committed when read, nothing to wait for.</summary>
    public override void LetGo(
        IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<PartitionState<T>> partitions, List<TopicPartitionOffset> untaken, Func<TimeSpan> waitForRuns)
    {
        if (untaken.Count > 0)
        {
            Committer.CommitLast(consumer, untaken, waitForRuns());
        }
    }
}
