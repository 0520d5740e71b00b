using System.Threading.Channels;
using Meshinery.Kafka.Offsets;

namespace Meshinery.Kafka.Tests.Offsets;

public class PartitionOffsetTrackerTests
{
    [Fact]
    public void New_NothingTracked_HasNothingToCommit()
    {
        var tracker = new PartitionOffsetTracker();

        tracker.CommittableOffset.Should().BeNull();
        tracker.InFlight.Should().Be(0);
        tracker.Buffered.Should().Be(0);
    }

    [Fact]
    public void Track_FirstOffset_CommitsAtThatOffset()
    {
        var tracker = new PartitionOffsetTracker();

        tracker.Track(42);

        tracker.CommittableOffset.Should().Be(42);
        tracker.InFlight.Should().Be(1);
        tracker.Buffered.Should().Be(1);
    }

    [Fact]
    public void Complete_InOrder_AdvancesToNextOffset()
    {
        var tracker = new PartitionOffsetTracker();
        for (long offset = 10; offset < 15; offset++)
        {
            tracker.Track(offset);
        }

        for (long offset = 10; offset < 15; offset++)
        {
            tracker.Complete(offset).Should().BeTrue();
            tracker.CommittableOffset.Should().Be(offset + 1);
            tracker.InFlight.Should().Be((int)(14 - offset));
            tracker.Buffered.Should().Be((int)(14 - offset));
        }
    }

    [Fact]
    public void Complete_OutOfOrder_HoldsAtOldestUnfinishedThenJumps()
    {
        var tracker = new PartitionOffsetTracker();
        for (long offset = 0; offset < 5; offset++)
        {
            tracker.Track(offset);
        }

        tracker.Complete(3).Should().BeTrue();
        tracker.Complete(1).Should().BeTrue();
        tracker.Complete(4).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(0, "offset 0 is unfinished");
        tracker.InFlight.Should().Be(2);
        tracker.Buffered.Should().Be(5);

        tracker.Complete(0).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(2, "offset 1 is done, offset 2 is not");
        tracker.Buffered.Should().Be(3);

        tracker.Complete(2).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(5, "everything up to 4 is done");
        tracker.InFlight.Should().Be(0);
        tracker.Buffered.Should().Be(0);
    }

    [Fact]
    public void Complete_WithGapsInOffsets_CommitsAtTrackedOffsetsOnly()
    {
        var tracker = new PartitionOffsetTracker();
        long[] offsets = [5, 6, 9, 20, 21, 100];
        foreach (var offset in offsets)
        {
            tracker.Track(offset);
        }

        tracker.Complete(20).Should().BeTrue();
        tracker.Complete(6).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(5);

        tracker.Complete(5).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(9);

        tracker.Complete(9).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(21, "20 is done, so the next unfinished is 21");

        tracker.Complete(100).Should().BeTrue();
        tracker.Complete(21).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(101);
    }

    [Fact]
    public void Complete_OffsetsInsideGaps_ReturnsFalse()
    {
        var tracker = new PartitionOffsetTracker();
        long[] offsets = [5, 6, 9, 20, 21, 100];
        foreach (var offset in offsets)
        {
            tracker.Track(offset);
        }

        long[] untracked = [0, 4, 7, 8, 10, 19, 22, 99, 101, long.MaxValue, -1, long.MinValue];
        foreach (var offset in untracked)
        {
            tracker.Complete(offset).Should().BeFalse($"{offset} was never tracked");
        }

        tracker.CommittableOffset.Should().Be(5);
        tracker.InFlight.Should().Be(6);
    }

    [Fact]
    public void Complete_Duplicate_ReturnsFalseAndChangesNothing()
    {
        var tracker = new PartitionOffsetTracker();
        for (long offset = 0; offset < 4; offset++)
        {
            tracker.Track(offset);
        }

        tracker.Complete(2).Should().BeTrue();
        tracker.Complete(2).Should().BeFalse("2 is already completed but held back by 0");
        tracker.InFlight.Should().Be(3);

        tracker.Complete(0).Should().BeTrue();
        tracker.Complete(0).Should().BeFalse("0 is already completed and popped");
        tracker.CommittableOffset.Should().Be(1);
        tracker.InFlight.Should().Be(2);
        tracker.Buffered.Should().Be(3);
    }

    [Fact]
    public void Complete_Unknown_ReturnsFalseAndChangesNothing()
    {
        var tracker = new PartitionOffsetTracker();
        tracker.Complete(0).Should().BeFalse("nothing is tracked yet");
        tracker.CommittableOffset.Should().BeNull();

        tracker.Track(10);
        tracker.Track(11);
        tracker.Complete(9).Should().BeFalse("below the first tracked offset");
        tracker.Complete(12).Should().BeFalse("above the last tracked offset");

        tracker.CommittableOffset.Should().Be(10);
        tracker.InFlight.Should().Be(2);
        tracker.Buffered.Should().Be(2);
    }

    [Fact]
    public void Complete_AfterEverythingDone_ReturnsFalse()
    {
        var tracker = new PartitionOffsetTracker();
        tracker.Track(7);
        tracker.Complete(7).Should().BeTrue();

        tracker.Complete(7).Should().BeFalse();
        tracker.Complete(8).Should().BeFalse();
        tracker.CommittableOffset.Should().Be(8);
        tracker.InFlight.Should().Be(0);
    }

    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    [InlineData(0)]
    public void Track_NotIncreasing_Throws(long offset)
    {
        var tracker = new PartitionOffsetTracker();
        tracker.Track(3);
        tracker.Track(5);

        var act = () => tracker.Track(offset);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("offset");
        tracker.CommittableOffset.Should().Be(3);
        tracker.InFlight.Should().Be(2);
    }

    [Fact]
    public void Track_NotIncreasingAfterAllCompleted_Throws()
    {
        var tracker = new PartitionOffsetTracker();
        tracker.Track(3);
        tracker.Complete(3);

        var act = () => tracker.Track(3);

        act.Should().Throw<ArgumentOutOfRangeException>();
        tracker.CommittableOffset.Should().Be(4);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(long.MinValue)]
    [InlineData(long.MaxValue)]
    public void Track_InvalidOffset_Throws(long offset)
    {
        var tracker = new PartitionOffsetTracker();

        var act = () => tracker.Track(offset);

        act.Should().Throw<ArgumentOutOfRangeException>();
        tracker.CommittableOffset.Should().BeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_NonPositiveCapacity_Throws(int capacity)
    {
        var act = () => new PartitionOffsetTracker(capacity);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Track_ThousandsInFlight_GrowsBufferAndKeepsOrder()
    {
        const int count = 5000;
        var tracker = new PartitionOffsetTracker(initialCapacity: 4);

        // Wrap the ring before it grows, so growth copies a split buffer.
        for (long offset = 0; offset < 3; offset++)
        {
            tracker.Track(offset);
            tracker.Complete(offset).Should().BeTrue();
        }

        for (long offset = 3; offset < 3 + count; offset++)
        {
            tracker.Track(offset);
        }

        tracker.InFlight.Should().Be(count);
        tracker.CommittableOffset.Should().Be(3);

        // Complete from newest to oldest: the commit stays put until the very last one.
        for (long offset = 2 + count; offset > 3; offset--)
        {
            tracker.Complete(offset).Should().BeTrue();
            tracker.CommittableOffset.Should().Be(3);
        }

        tracker.Buffered.Should().Be(count);
        tracker.Complete(3).Should().BeTrue();
        tracker.CommittableOffset.Should().Be(3 + count);
        tracker.InFlight.Should().Be(0);
        tracker.Buffered.Should().Be(0);
    }

    [Fact]
    public void Track_GrowsWhileWrappedWithGaps_FindsEveryOffset()
    {
        var tracker = new PartitionOffsetTracker(initialCapacity: 2);
        var offsets = new List<long>();
        long next = 0;
        for (var i = 0; i < 1000; i++)
        {
            next += (i % 7) + 1;
            offsets.Add(next);
            tracker.Track(next);
            if (i % 3 == 0)
            {
                // Keep the head moving so the ring wraps between growths.
                tracker.Complete(offsets[i / 3]).Should().BeTrue();
            }
        }

        for (var i = offsets.Count - 1; i >= 0; i--)
        {
            // The loop above completed offsets[0..333] (index i / 3 for every third i).
            tracker.Complete(offsets[i]).Should().Be(i > 333, $"offset {offsets[i]} at index {i}");
        }

        tracker.CommittableOffset.Should().Be(next + 1);
        tracker.InFlight.Should().Be(0);
    }

    [Theory]
    [InlineData(1, 100_000, 0)]
    [InlineData(2, 100_000, 64)]
    [InlineData(3, 20_000, 1)]
    public void RandomOperations_ComparedWithReferenceModel_Agree(int seed, int offsetCount, int window)
    {
        // window > 0 completes a random pending offset among the oldest `window`, like a bounded worker pool;
        // window == 0 completes any pending offset, which lets the buffer grow large.
        var random = new Random(seed);
        var tracker = new PartitionOffsetTracker(initialCapacity: 1);
        var model = new ReferenceModel();
        var pending = new List<long>();
        var completed = new List<long>();
        long next = -1;
        var tracked = 0;

        while (tracked < offsetCount || pending.Count > 0)
        {
            var roll = random.Next(100);
            if (tracked < offsetCount && (pending.Count == 0 || roll < 50))
            {
                // Mostly contiguous, sometimes a gap as on compacted or transactional topics.
                next += random.Next(10) == 0 ? random.Next(2, 50) : 1;
                tracker.Track(next);
                model.Track(next);
                pending.Add(next);
                tracked++;
            }
            else if (roll < 95 && pending.Count > 0)
            {
                var range = window > 0 ? Math.Min(window, pending.Count) : pending.Count;
                var index = random.Next(range);
                var offset = pending[index];
                if (window > 0)
                {
                    pending.RemoveAt(index); // keeps read order, so the window stays the oldest ones
                }
                else
                {
                    pending[index] = pending[^1];
                    pending.RemoveAt(pending.Count - 1);
                }

                tracker.Complete(offset).Should().BeTrue();
                model.Complete(offset).Should().BeTrue();
                completed.Add(offset);
            }
            else
            {
                // Duplicate or stale acknowledgement, or an offset that was never tracked.
                var offset = completed.Count > 0 && random.Next(2) == 0
                    ? completed[random.Next(completed.Count)]
                    : random.NextInt64(-5, next + 10);
                var expected = model.Complete(offset);
                tracker.Complete(offset).Should().Be(expected, $"completing {offset}");
                if (expected)
                {
                    // A random offset can hit a pending one, which is then legitimately completed.
                    pending.Remove(offset);
                    completed.Add(offset);
                }
            }

            if (tracker.CommittableOffset != model.CommittableOffset
                || tracker.InFlight != model.InFlight
                || tracker.Buffered != model.Buffered)
            {
                tracker.CommittableOffset.Should().Be(model.CommittableOffset);
                tracker.InFlight.Should().Be(model.InFlight);
                tracker.Buffered.Should().Be(model.Buffered);
            }
        }

        tracker.CommittableOffset.Should().Be(next + 1);
        tracker.InFlight.Should().Be(0);
        tracker.Buffered.Should().Be(0);
    }

    [Fact]
    public async Task Complete_FromTwoThreadsWhileTracking_EndsAtLastPlusOne()
    {
        const int count = 200_000;
        var tracker = new PartitionOffsetTracker(initialCapacity: 1);
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true });

        // The consumer thread: tracks, hands the offset to the workers, and reads the committable offset as it goes,
        // recording every change.
        var consumer = Task.Factory.StartNew(
            () =>
            {
                var taken = new List<long>();
                for (long offset = 0; offset < count; offset++)
                {
                    tracker.Track(offset * 2); // gaps, so lookups take the binary-search path too
                    channel.Writer.TryWrite(offset * 2).Should().BeTrue();
                    if (tracker.CommittableOffset is { } commit && (taken.Count == 0 || commit != taken[^1]))
                    {
                        taken.Add(commit);
                    }
                }

                channel.Writer.Complete();
                return taken;
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        var workers = Enumerable.Range(0, 2)
            .Select(_ => Task.Run(async () =>
            {
                var failures = 0;
                await foreach (var offset in channel.Reader.ReadAllAsync())
                {
                    if (!tracker.Complete(offset))
                    {
                        failures++;
                    }
                }

                return failures;
            }))
            .ToArray();

        var taken = await consumer;
        var failures = await Task.WhenAll(workers);

        failures.Should().AllBeEquivalentTo(0);
        taken.Should().NotBeEmpty().And.BeInAscendingOrder("the committable offset never decreases").And.OnlyHaveUniqueItems();
        taken.Should().OnlyContain(offset => offset >= 0 && offset <= (count * 2L) - 1);
        tracker.CommittableOffset.Should().Be(((count - 1) * 2L) + 1);
        tracker.InFlight.Should().Be(0);
        tracker.Buffered.Should().Be(0);
    }

    /// <summary>The obvious, slow implementation the tracker is checked against.</summary>
    private sealed class ReferenceModel
    {
        private readonly SortedSet<long> _pending = [];
        private readonly List<long> _tracked = [];
        private int _firstUncommitted;
        private long? _last;

        public long? CommittableOffset => _pending.Count > 0 ? _pending.Min : _last + 1;

        public int InFlight => _pending.Count;

        public int Buffered
        {
            get
            {
                var committable = CommittableOffset;
                while (_firstUncommitted < _tracked.Count && _tracked[_firstUncommitted] < committable)
                {
                    _firstUncommitted++;
                }

                return _tracked.Count - _firstUncommitted;
            }
        }

        public void Track(long offset)
        {
            _pending.Add(offset);
            _tracked.Add(offset);
            _last = offset;
        }

        public bool Complete(long offset) => _pending.Remove(offset);
    }
}
