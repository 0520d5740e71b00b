using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// Bounds what each partition holds: a partition is paused the moment it reaches its pending limit (librdkafka then
/// drops what it had prefetched for it) and resumed when half of that is left. Other partitions go on. Consume thread
/// only; the counters are read from anywhere.
/// </summary>
internal sealed class FlowControl<T>(string input, int maxPending, Func<PartitionState<T>, int> pending, ILogger logger)
{
    private int _paused;
    private long _pauses;

    public int Paused => Volatile.Read(ref _paused);

    public long Pauses => Interlocked.Read(ref _pauses);

    /// <summary>Pauses <paramref name="partition"/> if it just reached its limit.</summary>
    public void AfterRead(IConsumer<byte[], byte[]> consumer, PartitionState<T> partition)
    {
        if (partition.IsPaused || pending(partition) < maxPending)
        {
            return;
        }

        consumer.Pause([partition.TopicPartition]);
        partition.IsPaused = true;
        Interlocked.Increment(ref _paused);
        Interlocked.Increment(ref _pauses);
        KafkaLog.PartitionPaused(logger, input, KafkaFormat.Partition(partition.TopicPartition), pending(partition));
    }

    /// <summary>Resumes the paused partitions that drained to half their limit.</summary>
    public void ResumeDrained(IConsumer<byte[], byte[]> consumer, IEnumerable<PartitionState<T>> partitions)
    {
        if (Paused == 0)
        {
            return;
        }

        var drained = partitions.Where(p => p.IsPaused && pending(p) <= maxPending / 2).ToList();
        if (drained.Count == 0)
        {
            return;
        }

        consumer.Resume(drained.Select(p => p.TopicPartition));
        foreach (var partition in drained)
        {
            partition.IsPaused = false;
            Interlocked.Decrement(ref _paused);
            KafkaLog.PartitionResumed(logger, input, KafkaFormat.Partition(partition.TopicPartition), pending(partition));
        }
    }

    /// <summary>A partition goes away (revoked or lost); librdkafka forgets its pause with it.</summary>
    public void Forget(PartitionState<T> partition)
    {
        if (partition.IsPaused)
        {
            partition.IsPaused = false;
            Interlocked.Decrement(ref _paused);
        }
    }
}
