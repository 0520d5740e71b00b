using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// The input's consume thread, which owns the Kafka consumer: it reads what is ready (up to a batch), tracks and
/// deserializes each message, lets flow control pause a partition the moment it reaches its limit, hands the batch to
/// the rotation, hands the finished offsets to the commit policy every commit interval (which never waits for the
/// broker there), and at stop makes the last commits and leaves the group.
/// </summary>
internal sealed class ConsumeLoop<T>(
    string input,
    Membership membership,
    IConsumer<byte[], byte[]> consumer,
    KafkaInputSettings<T> settings,
    PartitionSet<T> partitions,
    HandOutRotation<T> rotation,
    CommitPolicy<T> commits,
    FlowControl<T> flow,
    OffsetCommitter committer,
    WaitSignal stopRequested,
    SourceContext context,
    ILogger logger,
    Action<IConsumer<byte[], byte[]>> everyLoop)
{
    private const int MaxBatch = 1_000;
    private static readonly TimeSpan s_idleConsumeTimeout = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_pausedConsumeTimeout = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_consumeErrorBackoff = TimeSpan.FromSeconds(1);
    private readonly MessageDeserializer<T> _deserializer = new(settings.Deserializer);
    private long _read;

    /// <summary>Messages read so far.</summary>
    public long Read => Interlocked.Read(ref _read);

    public void Run()
    {
        var batch = new List<(PartitionState<T> Partition, SourceItem<T> Item)>(MaxBatch);
        var time = context.TimeProvider;
        var nextCommit = time.GetTimestamp() + Ticks(settings.CommitInterval);
        try
        {
            membership.Join(consumer);
            while (!stopRequested.Wait(TimeSpan.Zero))
            {
                ConsumeBatch(batch, flow.Paused > 0 ? s_pausedConsumeTimeout : s_idleConsumeTimeout);

                if (time.GetTimestamp() >= nextCommit)
                {
                    commits.CommitFinished(consumer, partitions.All);
                    nextCommit = time.GetTimestamp() + Ticks(settings.CommitInterval);
                }

                flow.ResumeDrained(consumer, partitions.All);
                everyLoop(consumer); // e.g. the health tracker's lag, from the consumer's cached watermarks
            }

            // The engine has drained (or abandoned) its runs before stopping its sources: the last commits, then leave
            // the group. The revocation that follows does not wait: a run still going now ignores cancellation. The
            // commit may meet a rebalance another member's start or stop began: it retries until that is over.
            var all = partitions.All.ToList();
            var budget = settings.LastCommitBudget;
            commits.LetGo(consumer, all, rotation.Clear(all), waitForRuns: () => budget);
            commits.Close(budget);
            membership.Leave(consumer);
            KafkaLog.InputStopped(logger, input, KafkaFormat.Offsets(committer.Last));
            consumer.Close();
        }
        catch (KafkaException error) when (error.Error.IsFatal)
        {
            KafkaLog.FatalClientError(logger, consumer.Name, error.Error.Code, error.Error.Reason);
            context.ReportFatalError(error);
        }
        catch (Exception error)
        {
            KafkaLog.ConsumeFailed(logger, error, input);
            context.ReportFatalError(error);
        }
        finally
        {
            commits.Close(settings.LastCommitBudget); // ended already after a stop; after a fatal error, before the consumer goes
            consumer.Dispose();
        }
    }

    private void ConsumeBatch(List<(PartitionState<T> Partition, SourceItem<T> Item)> items, TimeSpan timeout)
    {
        try
        {
            var result = consumer.Consume(timeout);
            while (result is not null)
            {
                if (!result.IsPartitionEOF && Accept(result, items) is { } partition)
                {
                    flow.AfterRead(consumer, partition);
                }

                if (items.Count >= MaxBatch)
                {
                    break;
                }

                result = consumer.Consume(TimeSpan.Zero);
            }
        }
        catch (ConsumeException error) when (!error.Error.IsFatal)
        {
            KafkaLog.ConsumeFailed(logger, error, input);
            stopRequested.Wait(s_consumeErrorBackoff); // back off; a stop ends the wait at once
        }

        if (items.Count > 0)
        {
            HandOut(items);
            items.Clear();
        }
    }

    /// <summary>Tracks and deserializes one message; returns its partition, or <see langword="null"/> when it is skipped.</summary>
    private PartitionState<T>? Accept(ConsumeResult<byte[], byte[]> result, List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        if (!partitions.TryGet(result.TopicPartition, out var partition))
        {
            return null; // revoked while the message was on its way
        }

        var offset = result.Offset.Value;
        if (!partition.TryRead(offset))
        {
            KafkaLog.DuplicateSkipped(logger, input, KafkaFormat.Partition(result.TopicPartition), offset);
            return null;
        }

        commits.Read(partition, offset);
        Interlocked.Increment(ref _read); // before a pause it may cause: a reader seeing the pause sees the read
        items.Add((partition, _deserializer.ToItem(result, partition)));
        return partition;
    }

    private void HandOut(List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        // A rebalance runs inside Consume, so a partition may have been revoked after some of its messages joined the
        // batch. They were never committed (the next owner reads them again): drop them, and never commit for them.
        items.RemoveAll(i => i.Partition.IsRevoked);
        if (items.Count == 0)
        {
            return;
        }

        commits.BeforeHandOut(consumer, items);
        rotation.Add(items);
        context.NotifyItemsAvailable();
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * context.TimeProvider.TimestampFrequency);
}
