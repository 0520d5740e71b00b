using Confluent.Kafka;
using Meshinery.Kafka.Offsets;

namespace Meshinery.Kafka;

/// <summary>
/// One assignment of one partition to a <see cref="KafkaInput{T}"/>: its offset tracker, the messages read but not yet
/// taken by the engine, and whether it is paused. A new assignment of the same partition gets a new state, so
/// acknowledgements of runs from an earlier assignment land on the old, revoked state and are ignored: they can never
/// move a later assignment's commits.
/// </summary>
internal sealed class PartitionState<T>(TopicPartition topicPartition, KafkaInput<T> input) : IAcknowledger
{
    private volatile bool _revoked;
    private int _handedOut;

    public TopicPartition TopicPartition { get; } = topicPartition;

    public PartitionOffsetTracker Tracker { get; } = new();

    /// <summary>Read and deserialized, not yet taken by the engine. Guarded by the input's buffer lock.</summary>
    public Queue<SourceItem<T>> Buffer { get; } = new();

    /// <summary>Whether the partition sits in the input's round-robin of partitions with buffered messages (buffer lock).</summary>
    public bool IsInRotation { get; set; }

    /// <summary>Set once the partition is revoked or lost; acknowledgements are ignored from then on.</summary>
    public bool IsRevoked => _revoked;

    /// <summary>Paused by the input's back-pressure (consume thread only).</summary>
    public bool IsPaused { get; set; }

    /// <summary>Messages read in the consume batch under way, not yet in <see cref="Buffer"/> (consume thread only).</summary>
    public int Unpublished { get; set; }

    /// <summary>The last offset read (consume thread only).</summary>
    public long LastTracked { get; set; } = -1;

    /// <summary>The last offset committed (consume thread only).</summary>
    public long LastCommitted { get; set; } = -1;

    /// <summary>Messages handed to the engine whose runs have not ended.</summary>
    public int HandedOut => Volatile.Read(ref _handedOut);

    public void Revoke() => _revoked = true;

    /// <summary>Called under the buffer lock when the engine takes a message.</summary>
    public SourceItem<T> TakeNext()
    {
        Interlocked.Increment(ref _handedOut);
        return Buffer.Dequeue();
    }

    public void Acknowledge(SourcePosition position, RunOutcome outcome)
    {
        Interlocked.Decrement(ref _handedOut);

        // An abandoned run (engine stopped) is not done: its offset stays uncommitted so that it is read again.
        if (!_revoked && outcome != RunOutcome.Abandoned)
        {
            Tracker.Complete(position.Offset);
        }

        input.OnAcknowledged();
    }
}
