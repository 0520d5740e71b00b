using System.Collections.Concurrent;
using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// Commits offsets for an input, remembers what was committed last per partition and reports each commit (to the
/// callback, and its duration and failure to the Kafka metrics). Its retry backoff and budget run on the engine's clock
/// (<paramref name="clock"/>), as every other wait of the input does.
/// </summary>
internal sealed class OffsetCommitter(
    string input, ILogger logger, Action<IReadOnlyList<TopicPartitionOffset>> committed, TimeProvider clock, InputMetrics? metrics = null)
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(50);

    /// <summary>The backoff doubles up to this, so that a long budget keeps trying rather than sleeping through its end.</summary>
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<TopicPartition, long> _committed = new();
    private readonly TimeProvider _time = clock;

    /// <summary>The offsets committed last, per partition (the next offset to read).</summary>
    public IReadOnlyDictionary<TopicPartition, long> Last => new Dictionary<TopicPartition, long>(_committed);

    /// <summary>The offset committed last for <paramref name="partition"/>, if any (readable from any thread).</summary>
    public long? LastOf(TopicPartition partition) => _committed.TryGetValue(partition, out var offset) ? offset : null;

    /// <summary>Commits <paramref name="offsets"/> once; a failure that is not fatal is logged (event 103).</summary>
    public CommitResult TryCommit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        var result = CommitOnce(consumer, offsets);
        if (result.Error is { } error)
        {
            KafkaLog.CommitFailed(logger, new KafkaException(error), input);
        }

        return result;
    }

    /// <summary>
    /// The last commit of partitions let go: retries what failed with a retriable error (a rebalance in progress, a
    /// stale generation once, a timeout, the coordinator moving), backing off 50 ms doubling up to 500 ms, for at most
    /// <paramref name="budget"/>; stops at once when the member is no longer in the group (unknown member, fenced, a
    /// second stale generation in a row).
    /// Logs exactly what was and was not committed (113, 114).
    /// </summary>
    public CommitResult CommitLast(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets, TimeSpan budget)
    {
        var start = _time.GetTimestamp();
        var done = new List<TopicPartitionOffset>();
        var left = offsets;
        var backoff = s_firstBackoff;
        var attempts = 0;
        ErrorCode? previous = null;
        CommitResult result;
        while (true)
        {
            attempts++;
            result = CommitOnce(consumer, left);
            done.AddRange(result.Committed);
            left = result.NotCommitted;
            var remaining = budget - _time.GetElapsedTime(start);
            if (result.Error is not { } error || !IsRetriable(error.Code) || remaining <= backoff
                || (error.Code == ErrorCode.IllegalGeneration && previous == ErrorCode.IllegalGeneration))
            {
                break; // a second stale generation in a row: the group went on without this member
            }

            previous = error.Code;

            Task.Delay(backoff, _time).GetAwaiter().GetResult(); // the consume thread: nothing else to do meanwhile
            backoff = backoff * 2 < s_maxBackoff ? backoff * 2 : s_maxBackoff;
        }

        if (left.Count == 0)
        {
            KafkaLog.LastCommitSucceeded(logger, input, attempts, KafkaFormat.Offsets(ToMap(done)));
        }
        else
        {
            KafkaLog.LastCommitFailed(
                logger, input, KafkaFormat.Offsets(ToMap(left)), result.Error?.Code ?? ErrorCode.Unknown, result.Error?.Reason ?? string.Empty,
                attempts, KafkaFormat.Offsets(ToMap(done)));
        }

        return new CommitResult(done, left, result.Error);
    }

    /// <summary>
    /// Errors after which the same commit may succeed. <see cref="ErrorCode.IllegalGeneration"/> is one, once: a commit
    /// sent while the member's own rejoin waited at the coordinator is answered with it when the rejoin completes, and
    /// the next try carries the new generation; a member the group dropped gets it again (librdkafka then commits with
    /// no generation), and <see cref="CommitLast"/> stops. UnknownMemberId and fenced: never.
    /// </summary>
    internal static bool IsRetriable(ErrorCode code) => code is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.RequestTimedOut
        or ErrorCode.GroupLoadInProgress or ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.NotCoordinatorForGroup
        or ErrorCode.NetworkException or ErrorCode.Local_TimedOut or ErrorCode.Local_Transport or ErrorCode.Local_WaitCoord;

    private CommitResult CommitOnce(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        List<TopicPartitionOffset> done;
        List<TopicPartitionOffset> failed;
        Error? error = null;
        var startedAt = Stopwatch.GetTimestamp();
        try
        {
            consumer.Commit(offsets);
            done = offsets;
            failed = [];
        }
        catch (TopicPartitionOffsetException partial) when (!partial.Error.IsFatal)
        {
            // Per-partition results: some may have been committed.
            done = [.. partial.Results.Where(r => !r.Error.IsError).Select(r => r.TopicPartitionOffset)];
            var bad = partial.Results.Where(r => r.Error.IsError).ToList();
            failed = [.. bad.Select(r => r.TopicPartitionOffset)];
            error = bad.Count > 0 ? bad[0].Error : partial.Error;
        }
        catch (KafkaException whole) when (!whole.Error.IsFatal)
        {
            done = [];
            failed = offsets;
            error = whole.Error;
        }

        metrics?.Committed(startedAt, failed: error is not null);
        foreach (var offset in done)
        {
            _committed[offset.TopicPartition] = offset.Offset.Value;
        }

        if (done.Count > 0)
        {
            committed(done);
        }

        return new CommitResult(done, failed, error);
    }

    private static Dictionary<TopicPartition, long> ToMap(List<TopicPartitionOffset> offsets) =>
        offsets.ToDictionary(o => o.TopicPartition, o => o.Offset.Value);
}

/// <summary>What a commit committed, what it did not, and why not.</summary>
internal sealed record CommitResult(List<TopicPartitionOffset> Committed, List<TopicPartitionOffset> NotCommitted, Error? Error)
{
    public bool AllCommitted => NotCommitted.Count == 0;
}
