using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// When an input commits, and what: one implementation per <see cref="KafkaDelivery"/> mode. The consume thread calls
/// every member.
/// </summary>
internal abstract class CommitPolicy<T>(OffsetCommitter committer)
{
    protected OffsetCommitter Committer { get; } = committer;

    /// <summary>The one place that tells the modes apart.</summary>
    public static CommitPolicy<T> For(
        KafkaDelivery delivery, OffsetCommitter committer, HandOutRotation<T> rotation, WaitSignal stopRequested, Func<CommitThread<T>> commitThread) =>
        delivery switch
        {
            KafkaDelivery.AtLeastOnce => new AtLeastOnceCommits<T>(committer, commitThread()),
            KafkaDelivery.AtMostOnce => new AtMostOnceCommits<T>(committer, rotation, stopRequested),
            _ => throw new ArgumentOutOfRangeException(nameof(delivery), delivery, "unknown delivery mode"),
        };

    /// <summary>A message of <paramref name="partition"/> was read.</summary>
    public abstract void Read(PartitionState<T> partition, long offset);

    /// <summary>The messages held for <paramref name="partition"/> that count against its pending limit.</summary>
    public abstract int Pending(PartitionState<T> partition);

    /// <summary>A consume batch is about to be handed to the engine.</summary>
    public virtual void BeforeHandOut(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
    }

    /// <summary>The commit interval passed. Must not wait for the broker: the consume thread goes on reading.</summary>
    public abstract void CommitFinished(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions);

    /// <summary>
    /// Ends what the policy runs beside the consume thread, waiting up to <paramref name="timeout"/>; called before the
    /// consumer is closed or disposed.
    /// </summary>
    public virtual void Close(TimeSpan timeout)
    {
    }

    /// <summary>
    /// The last commit for partitions let go (revoked, or the input stops), whose messages not taken by the engine were
    /// just withdrawn (<paramref name="untaken"/>: the first offset of each). <paramref name="waitForRuns"/> waits for
    /// their handed-out runs (bounded by the revocation timeout) and returns how long the commit may then retry.
    /// </summary>
    public abstract void LetGo(
        IConsumer<byte[], byte[]> consumer, IReadOnlyCollection<PartitionState<T>> partitions, List<TopicPartitionOffset> untaken, Func<TimeSpan> waitForRuns);
}
