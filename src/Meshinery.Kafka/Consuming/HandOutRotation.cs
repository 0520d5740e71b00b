using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// The messages read and waiting for the engine, handed out round-robin across partitions, one message per partition
/// at a time, so that a partition with a large backlog cannot starve the others. The consume thread adds, the poll
/// loop takes; one lock guards every partition's buffer.
/// </summary>
internal sealed class HandOutRotation<T>
{
    private readonly Lock _lock = new();
    private readonly Queue<PartitionState<T>> _partitions = new();

    /// <summary>The engine's poll loop takes up to <c>buffer.Length</c> messages.</summary>
    public int Take(Span<SourceItem<T>> buffer)
    {
        var count = 0;
        lock (_lock)
        {
            while (count < buffer.Length && _partitions.TryDequeue(out var partition))
            {
                if (partition.IsRevoked || partition.Buffer.Count == 0)
                {
                    partition.IsInRotation = false;
                    continue;
                }

                buffer[count++] = partition.TakeNext();
                if (partition.Buffer.Count > 0)
                {
                    _partitions.Enqueue(partition);
                }
                else
                {
                    partition.IsInRotation = false;
                }
            }
        }

        return count;
    }

    /// <summary>Adds a consume batch (consume thread).</summary>
    public void Add(List<(PartitionState<T> Partition, SourceItem<T> Item)> items)
    {
        lock (_lock)
        {
            foreach (var (partition, item) in items)
            {
                partition.Unpublished = 0;
                partition.Buffer.Enqueue(item);
                if (!partition.IsInRotation)
                {
                    partition.IsInRotation = true;
                    _partitions.Enqueue(partition);
                }
            }
        }
    }

    /// <summary>Messages of <paramref name="partition"/> read and not taken (consume thread; the count only shrinks meanwhile).</summary>
    public int Waiting(PartitionState<T> partition)
    {
        lock (_lock)
        {
            return partition.Buffer.Count;
        }
    }

    /// <summary>
    /// Stops handing out the messages of partitions that are going away (the next owner reads them again); returns,
    /// for each partition that had some, the offset of the first of them.
    /// </summary>
    public List<TopicPartitionOffset> Clear(IEnumerable<PartitionState<T>> partitions)
    {
        var untaken = new List<TopicPartitionOffset>();
        lock (_lock)
        {
            foreach (var partition in partitions.Where(p => p.Buffer.Count > 0))
            {
                untaken.Add(new TopicPartitionOffset(partition.TopicPartition, new Offset(partition.Buffer.Peek().Position.Offset)));
                partition.Buffer.Clear();
            }
        }

        return untaken;
    }
}
