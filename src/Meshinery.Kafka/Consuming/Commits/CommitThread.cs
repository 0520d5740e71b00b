using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// At least once: makes the periodic commits on a thread of its own, so that a commit librdkafka holds (its retries of
/// coordinator errors and timeouts, a rejoin waiting at the coordinator ahead of it) never stops the consume thread
/// reading. The consume thread offers the finished offsets every commit interval and goes on at once; only the newest
/// offer waits (one made while a commit is in flight replaces the one before it), so while commits fail the input keeps
/// reading and the next commit carries the newest finished offsets. librdkafka's commit is thread-safe; this thread
/// never touches the partition set, only the <see cref="PartitionState{T}"/>s it was offered.
/// </summary>
internal sealed class CommitThread<T>(string input, OffsetCommitter committer, TimeProvider time, Action<Exception> reportFatal, ILogger logger)
{
    /// <summary>How long one wait for the commit in flight sleeps before it looks at the engine's clock again.</summary>
    private static readonly TimeSpan s_waitSlice = TimeSpan.FromMilliseconds(50);
    private readonly object _gate = new();
    private List<(PartitionState<T> Partition, TopicPartitionOffset Offset)>? _offered;
    private IConsumer<byte[], byte[]>? _consumer;
    private Thread? _thread;
    private bool _busy;
    private bool _stopping;

    /// <summary>Replaces the commit waiting to be made with <paramref name="commits"/> (consume thread; never blocks).</summary>
    public void Offer(IConsumer<byte[], byte[]> consumer, List<(PartitionState<T> Partition, TopicPartitionOffset Offset)> commits)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _offered = commits;
            _consumer = consumer;
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = $"meshinery-kafka-commit-{input}" };
                _thread.UnsafeStart();
            }

            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// Before the last commit of partitions let go: drops their offered commit and waits, up to
    /// <paramref name="budget"/>, for a commit in flight, which may carry lower offsets of theirs (librdkafka may still
    /// resend it after the last commit otherwise). Returns what is left of the budget.
    /// </summary>
    public TimeSpan Withdraw(IReadOnlyCollection<PartitionState<T>> partitions, TimeSpan budget)
    {
        lock (_gate)
        {
            _offered?.RemoveAll(c => partitions.Contains(c.Partition));
        }

        return WaitIdle(budget);
    }

    /// <summary>
    /// No more periodic commits (the input stops): drops the offered one and waits, up to <paramref name="budget"/>, for
    /// the one in flight; returns what is left of the budget.
    /// </summary>
    public TimeSpan Stop(TimeSpan budget)
    {
        lock (_gate)
        {
            _stopping = true;
            _offered = null;
            Monitor.PulseAll(_gate);
        }

        return WaitIdle(budget);
    }

    /// <summary>
    /// Ends the thread before the consumer is closed: waits up to <paramref name="timeout"/> for a commit in flight (its
    /// result is recorded). One librdkafka still holds then returns when the consumer closes (Confluent's handle is
    /// released only once the call in progress has returned).
    /// </summary>
    public void Join(TimeSpan timeout)
    {
        Thread? thread;
        lock (_gate)
        {
            _stopping = true;
            _offered = null;
            Monitor.PulseAll(_gate);
            thread = _thread;
        }

        thread?.Join(timeout);
    }

    private TimeSpan WaitIdle(TimeSpan budget)
    {
        var start = time.GetTimestamp();
        lock (_gate)
        {
            while (_busy && time.GetElapsedTime(start) < budget)
            {
                Monitor.Wait(_gate, s_waitSlice);
            }
        }

        var left = budget - time.GetElapsedTime(start);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private void Run()
    {
        try
        {
            while (Next() is { } next)
            {
                try
                {
                    // Revoked between the offer and now: its last commit was made on the consume thread.
                    next.Commits.RemoveAll(c => c.Partition.IsRevoked);
                    if (next.Commits.Count > 0)
                    {
                        CommitRecord.Apply(next.Commits, committer.TryCommit(next.Consumer, next.Commits.ConvertAll(c => c.Offset)));
                    }
                }
                finally
                {
                    lock (_gate)
                    {
                        _busy = false;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }
        catch (KafkaException error) when (error.Error.IsFatal)
        {
            KafkaLog.FatalClientError(logger, input, error.Error.Code, error.Error.Reason);
            reportFatal(error);
        }
        catch (Exception error)
        {
            KafkaLog.CommitThreadFailed(logger, error, input);
            reportFatal(error);
        }
    }

    private (IConsumer<byte[], byte[]> Consumer, List<(PartitionState<T> Partition, TopicPartitionOffset Offset)> Commits)? Next()
    {
        lock (_gate)
        {
            while (_offered is null && !_stopping)
            {
                Monitor.Wait(_gate);
            }

            if (_stopping)
            {
                return null;
            }

            var commits = _offered!;
            _offered = null;
            _busy = true;
            return (_consumer!, commits);
        }
    }
}
