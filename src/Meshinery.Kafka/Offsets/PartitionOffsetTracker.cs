namespace Meshinery.Kafka.Offsets;

/// <summary>
/// Tracks the offsets of one Kafka partition that are being processed out of order and computes the
/// offset that is safe to commit (at-least-once: a commit never passes an offset whose work is unfinished).
/// </summary>
/// <remarks>
/// <para>
/// Contract: offsets are <see cref="Track">tracked</see> in strictly increasing order, as the consumer reads
/// them (gaps are allowed: compacted topics, transaction markers). Each tracked offset is later
/// <see cref="Complete">completed</see> exactly once, in any order. The committable offset is the Kafka commit
/// value, i.e. the next offset to read: the lowest tracked offset not yet completed or, when nothing is pending,
/// the last tracked offset + 1. It is <see langword="null"/> until something is tracked and never decreases.
/// One instance covers one assignment of one partition; after a revoke or a seek backwards, use a new instance.
/// </para>
/// <para>
/// Data structure: a power-of-two ring buffer of (offset, done) entries in read order, holding every tracked
/// offset from the committable offset up to the last tracked one. Completing the head pops it and every
/// completed entry behind it, so the work per message is O(1) amortized. The entry of an offset is found directly
/// at index <c>offset - headOffset</c> when offsets are contiguous; with gaps that index is an upper bound
/// (offsets strictly increase) and a binary search below it finds the entry. The buffer grows by doubling and is
/// reused, so the steady state allocates nothing. Memory is proportional to <see cref="Buffered"/>: the entries
/// from the oldest unfinished offset to the newest tracked one, not to the number of offsets ever seen.
/// </para>
/// <para>
/// Thread-safety: every member is thread-safe. The consumer thread calls <see cref="Track"/> and reads
/// <see cref="CommittableOffset"/>, workers call <see cref="Complete"/>. A plain lock is used because the critical
/// sections are a few array accesses and mostly uncontended, where a lock costs tens of nanoseconds; a lock-free
/// design would be much harder to get right for no measurable gain.
/// </para>
/// </remarks>
internal sealed class PartitionOffsetTracker
{
    private const int DefaultInitialCapacity = 64;

    private readonly Lock _gate = new();

    // Ring of tracked offsets in read order; its length is a power of two so a slot is (_head + i) & mask.
    private Entry[] _entries;
    private int _head;
    private int _count;
    private int _inFlight;

    // Last tracked offset, -1 before the first Track (offsets are never negative).
    private long _lastTracked = -1;

    /// <summary>Creates an empty tracker.</summary>
    /// <param name="initialCapacity">
    /// Entries to allocate up front, rounded up to a power of two; the buffer doubles when it is exceeded.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="initialCapacity"/> is not positive or too large.</exception>
    public PartitionOffsetTracker(int initialCapacity = DefaultInitialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(initialCapacity, 1 << 30);
        _entries = new Entry[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)initialCapacity)];
    }

    /// <summary>
    /// The offset to commit (the next offset to read): the lowest tracked offset not yet completed, or the last
    /// tracked offset + 1 when nothing is pending; <see langword="null"/> before anything was tracked.
    /// </summary>
    public long? CommittableOffset
    {
        get
        {
            lock (_gate)
            {
                return CommittableCore();
            }
        }
    }

    /// <summary>The number of tracked offsets not yet completed.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>
    /// The number of tracked offsets at or above <see cref="CommittableOffset"/>: the pending ones plus those
    /// completed but held back by an older pending one. These would be read again after a crash, and the memory
    /// used is proportional to this count; bounding it (not only <see cref="InFlight"/>) bounds both, even when
    /// one slow message holds the commit back.
    /// </summary>
    public int Buffered
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Records that <paramref name="offset"/> was read and its work has started.</summary>
    /// <param name="offset">The offset read; it must be greater than every offset tracked before.</param>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="offset"/> is negative, <see cref="long.MaxValue"/> (its successor could not be committed),
    /// or not greater than the previously tracked offset.
    /// </exception>
    public void Track(long offset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfEqual(offset, long.MaxValue);
        lock (_gate)
        {
            // Read order is what makes "lowest pending" the safe commit; an offset going backwards means the
            // caller seeked or reused the tracker across assignments, which would silently corrupt commits.
            if (offset <= _lastTracked)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(offset), offset, $"Offsets must be tracked in increasing order; the last tracked offset is {_lastTracked}.");
            }

            if (_count == _entries.Length)
            {
                Grow();
            }

            _entries[(_head + _count) & (_entries.Length - 1)] = new Entry(offset);
            _count++;
            _inFlight++;
            _lastTracked = offset;
        }
    }

    /// <summary>Records that the work of <paramref name="offset"/> is finished.</summary>
    /// <param name="offset">A tracked offset.</param>
    /// <returns>
    /// <see langword="true"/> if the offset was pending and is now completed; <see langword="false"/>, changing
    /// nothing, if it was never tracked or already completed (a duplicate or stale acknowledgement).
    /// </returns>
    public bool Complete(long offset)
    {
        lock (_gate)
        {
            var index = IndexOf(offset);
            if (index < 0)
            {
                return false;
            }

            var mask = _entries.Length - 1;
            ref var entry = ref _entries[(_head + index) & mask];
            if (entry.Done)
            {
                return false;
            }

            entry.Done = true;
            _inFlight--;

            // Only completing the head can move the commit; pop it and the completed entries queued behind it.
            if (index == 0)
            {
                do
                {
                    _head = (_head + 1) & mask;
                    _count--;
                }
                while (_count > 0 && _entries[_head].Done);
            }

            return true;
        }
    }

    private long? CommittableCore()
    {
        if (_count > 0)
        {
            return _entries[_head].Offset;
        }

        return _lastTracked < 0 ? null : _lastTracked + 1;
    }

    // Logical index (0 = head) of the buffered entry for offset, or -1 if it is not buffered.
    private int IndexOf(long offset)
    {
        if (_count == 0 || offset > _lastTracked)
        {
            return -1;
        }

        var mask = _entries.Length - 1;
        var distance = offset - _entries[_head].Offset;
        if (distance < 0)
        {
            // Below the head: already completed and popped, or never tracked.
            return -1;
        }

        // Offsets strictly increase, so the entry i places after the head holds at least headOffset + i: the
        // offset's index is at most its distance from the head, and exactly that when there is no gap.
        var high = (int)Math.Min(distance, _count - 1);
        if (_entries[(_head + high) & mask].Offset == offset)
        {
            return high;
        }

        // Gaps: binary search the logical range [0, high).
        var low = 0;
        high--;
        while (low <= high)
        {
            var mid = low + ((high - low) >> 1);
            var found = _entries[(_head + mid) & mask].Offset;
            if (found == offset)
            {
                return mid;
            }

            if (found < offset)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return -1;
    }

    private void Grow()
    {
        if (_entries.Length >= Array.MaxLength / 2)
        {
            // Unreachable in practice: a billion messages of one partition in flight.
            throw new InvalidOperationException("Too many offsets in flight for one partition.");
        }

        // Copy in logical order so the head lands at slot 0 of the new ring.
        var grown = new Entry[_entries.Length * 2];
        var firstPart = _entries.Length - _head;
        Array.Copy(_entries, _head, grown, 0, firstPart);
        Array.Copy(_entries, 0, grown, firstPart, _head);
        _entries = grown;
        _head = 0;
    }

    private struct Entry(long offset)
    {
        public readonly long Offset = offset;
        public bool Done;
    }
}
