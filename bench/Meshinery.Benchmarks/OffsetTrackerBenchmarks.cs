using BenchmarkDotNet.Attributes;
using Meshinery.Kafka.Offsets;

namespace Meshinery.Benchmarks;

/// <summary>
/// The per-message cost of <see cref="PartitionOffsetTracker"/>: one <c>Track</c> when a message is read and one
/// <c>Complete</c> when its run ends, with a read of <c>CommittableOffset</c> every 1,000 messages (the consume thread's periodic
/// commit). One operation is one message. Completion orders: as read, reversed within windows, and shuffled within
/// windows of <see cref="Window"/> messages in flight.
/// </summary>
[Config(typeof(BenchConfig))]
public class OffsetTrackerBenchmarks
{
    private const int Messages = 100_000;
    private long[] _completionOrder = [];
    private long _nextOffset;

    /// <summary>Messages in flight at once (completed out of order among themselves).</summary>
    [Params(1, 256, 4_096)]
    public int Window { get; set; }

    [Params("in-order", "shuffled")]
    public string Order { get; set; } = "in-order";

    [GlobalSetup]
    public void Setup()
    {
        _completionOrder = new long[Messages];
        var random = new Random(42);
        for (var start = 0; start < Messages; start += Window)
        {
            var count = Math.Min(Window, Messages - start);
            var window = Enumerable.Range(start, count).Select(i => (long)i).ToArray();
            if (Order == "shuffled")
            {
                random.Shuffle(window);
            }

            window.CopyTo(_completionOrder, start);
        }
    }

    [Benchmark(OperationsPerInvoke = Messages)]
    public long TrackAndComplete()
    {
        // Offsets keep increasing across invocations, as on a real partition.
        var tracker = new PartitionOffsetTracker();
        var baseOffset = _nextOffset;
        _nextOffset += Messages;
        long committed = 0;
        for (var start = 0; start < Messages; start += Window)
        {
            var end = Math.Min(start + Window, Messages);
            for (var i = start; i < end; i++)
            {
                tracker.Track(baseOffset + i);
            }

            for (var i = start; i < end; i++)
            {
                tracker.Complete(baseOffset + _completionOrder[i]);
                if (i % 1_000 == 999 && tracker.CommittableOffset is { } offset)
                {
                    committed = offset;
                }
            }
        }

        return committed;
    }
}
