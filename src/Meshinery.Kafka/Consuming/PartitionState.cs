using Confluent.Kafka;
using Meshinery.Kafka.Offsets;

namespace Meshinery.Kafka;

/// <summary>
/// One assignment of one partition to a <see cref="KafkaInput{T}"/>: its offset tracker and commit position, the
/// messages read but not yet taken by the engine, and whether it is paused. A new assignment of the same partition gets
/// a new state, so acknowledgements of runs from an earlier assignment land on the old, revoked state and are ignored:
/// they can never move a later assignment's commits.
/// </summary>
internal sealed class PartitionState<T>(TopicPartition topicPartition, AcknowledgementSignal acknowledged) : IAcknowledger
{
    private volatile bool _revoked;
    private int _handedOut;
    private long _lastRead = -1;
    private long _lastCommitted = -1;

    public TopicPartition TopicPartition { get; } = topicPartition;

    /// <summary>At least once: which offsets are finished (consume thread and run loop, thread-safe).</summary>
    public PartitionOffsetTracker Tracker { get; } = new();

    /// <summary>Read and deserialized, not yet taken by the engine. Guarded by the <see cref="HandOutRotation{T}"/>'s lock.</summary>
    public Queue<SourceItem<T>> Buffer { get; } = new();

    /// <summary>Whether the partition sits in the round-robin of partitions with buffered messages (rotation lock).</summary>
    public bool IsInRotation { get; set; }

    /// <summary>Set once the partition is revoked or lost; acknowledgements are ignored from then on.</summary>
    public bool IsRevoked => _revoked;

    /// <summary>Paused by the input's flow control (consume thread only).</summary>
    public bool IsPaused { get; set; }

    /// <summary>Messages read in the consume batch under way, not yet in <see cref="Buffer"/> (consume thread only).</summary>
    public int Unpublished { get; set; }

    /// <summary>Messages handed to the engine whose runs have not ended.</summary>
    public int HandedOut => Math.Max(0, Volatile.Read(ref _handedOut));

    /// <summary>Records that <paramref name="offset"/> was read; false when it was read already (consume thread).</summary>
    public bool TryRead(long offset)
    {
        if (offset <= _lastRead)
        {
            return false;
        }

        _lastRead = offset;
        Unpublished++;
        return true;
    }

    /// <summary>At least once: the offset below which every message is finished, when it moved since the last commit.</summary>
    public TopicPartitionOffset? FinishedOffsetToCommit() =>
        !_revoked && Tracker.CommittableOffset is { } offset && offset > Interlocked.Read(ref _lastCommitted)
            ? new TopicPartitionOffset(TopicPartition, new Offset(offset))
            : null;

    /// <summary>Records a successful commit (the commit thread, or the consume thread for last commits).</summary>
    public void Committed(long offset)
    {
        var seen = Interlocked.Read(ref _lastCommitted);
        while (offset > seen)
        {
            var before = Interlocked.CompareExchange(ref _lastCommitted, offset, seen);
            if (before == seen)
            {
                return;
            }

            seen = before;
        }
    }

    public void Revoke() => _revoked = true;

    /// <summary>Called under the rotation lock when the engine takes a message.</summary>
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

        acknowledged.Notify();
    }
}
