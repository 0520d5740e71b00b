using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Meshinery;

namespace OrderEnrichment;

/// <summary>
/// What the sample observes about its own run, beyond the engine's statistics: the newest offset read per partition
/// (to check at the end that everything read was committed), the dead letters written, and when the first message
/// started and the last one finished (for the throughput).
/// </summary>
internal sealed class Observations
{
    private readonly ConcurrentDictionary<TopicPartition, long> _lastRead = new();
    private long _firstStartedAt;
    private long _lastFinishedAt;
    private long _deadLettered;
    private long _written;

    /// <summary>Dead letters the broker acknowledged.</summary>
    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Enriched orders the broker acknowledged.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The newest offset read per partition.</summary>
    public IReadOnlyDictionary<TopicPartition, long> LastRead => _lastRead;

    /// <summary>From the first message's first step to the last output or dead letter acknowledged; zero when none.</summary>
    public TimeSpan Elapsed
    {
        get
        {
            var first = Interlocked.Read(ref _firstStartedAt);
            var last = Interlocked.Read(ref _lastFinishedAt);
            return first == 0 || last <= first ? TimeSpan.Zero : Stopwatch.GetElapsedTime(first, last);
        }
    }

    /// <summary>The Stopwatch timestamp of the first message's first step, or 0.</summary>
    public long FirstStartedAt => Interlocked.Read(ref _firstStartedAt);

    /// <summary>The Stopwatch timestamp of the last output or dead letter acknowledged, or 0.</summary>
    public long LastFinishedAt => Interlocked.Read(ref _lastFinishedAt);

    /// <summary>Called from the first step of every readable message, and for every dead letter.</summary>
    public void OnRead(SourcePosition position)
    {
        Interlocked.CompareExchange(ref _firstStartedAt, Stopwatch.GetTimestamp(), 0);
        if (position.Offset < 0)
        {
            return; // injected, not read from Kafka
        }

        var offset = position.Offset;
        _lastRead.AddOrUpdate(new TopicPartition(position.Source, position.Partition), offset, (_, known) => Math.Max(known, offset));
    }

    public void OnWritten(EnrichedOrder order)
    {
        Interlocked.Increment(ref _written);
        Finished();
    }

    public void OnDeadLettered(ProcessingFailure failure)
    {
        OnRead(failure.Position); // an unreadable message never reaches the first step
        Interlocked.Increment(ref _deadLettered);
        Finished();
    }

    private void Finished()
    {
        var now = Stopwatch.GetTimestamp();
        var last = Interlocked.Read(ref _lastFinishedAt);
        while (now > last)
        {
            var seen = Interlocked.CompareExchange(ref _lastFinishedAt, now, last);
            if (seen == last)
            {
                return;
            }

            last = seen;
        }
    }
}
