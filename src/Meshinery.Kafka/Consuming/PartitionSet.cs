using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// The partitions assigned to an input now, one <see cref="PartitionState{T}"/> per assignment, and what happens when
/// the group assigns, revokes or loses partitions. Librdkafka calls the handlers on the consume thread, inside
/// <c>Consume</c>, which is the only thread that touches the set.
/// </summary>
internal sealed class PartitionSet<T>(
    string input,
    string groupId,
    KafkaInputOptions<T> callbacks,
    CommitPolicy<T> commits,
    FlowControl<T> flow,
    HandOutRotation<T> rotation,
    AcknowledgementSignal acknowledged,
    TimeSpan revocationTimeout,
    TimeProvider time,
    Func<bool> stopping,
    Action<Exception> reportFatal,
    ILogger logger)
{
    /// <summary>
    /// How long a revocation's commit retries inside the rebalance handler: long enough for a coordinator that moves or
    /// a request that timed out (a broker accepts commits of the current generation while a rebalance is prepared), short
    /// because the member rejoins only after the handler returns. A refusal that lasts, such as librdkafka's mock broker
    /// refusing every commit until the rebalance completes, is logged (event 114) and the next owner redoes the rest.
    /// </summary>
    internal static readonly TimeSpan RevocationCommitBudget = TimeSpan.FromSeconds(1);

    private readonly Dictionary<TopicPartition, PartitionState<T>> _partitions = [];
    private int _count;

    /// <summary>Partitions assigned now (readable from any thread).</summary>
    public int Count => Volatile.Read(ref _count);

    public IEnumerable<PartitionState<T>> All => _partitions.Values;

    /// <summary>The current assignment of <paramref name="partition"/>, if it is assigned.</summary>
    public bool TryGet(TopicPartition partition, out PartitionState<T> state) => _partitions.TryGetValue(partition, out state!);

    public void OnAssigned(List<TopicPartition> partitions)
    {
        foreach (var topicPartition in partitions)
        {
            _partitions[topicPartition] = new PartitionState<T>(topicPartition, acknowledged);
        }

        Volatile.Write(ref _count, _partitions.Count);
        KafkaLog.PartitionsAssigned(logger, input, groupId, partitions.Count, KafkaFormat.Partitions(partitions));
        Notify(callbacks.PartitionsAssigned, partitions, nameof(callbacks.PartitionsAssigned));
    }

    /// <summary>
    /// Lets partitions go in an orderly way: nothing more of them is handed out, the commit policy makes their last
    /// commit (at least once after their handed-out runs ended, up to the revocation timeout), then they are forgotten.
    /// </summary>
    public void OnRevoked(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        var revoked = Find(partitions);
        var untaken = rotation.Clear(revoked);
        commits.LetGo(consumer, revoked, untaken, () => WaitForHandedOut(revoked));
        var abandoned = Release(revoked);
        KafkaLog.PartitionsRevoked(logger, input, revoked.Count, abandoned, KafkaFormat.Partitions(revoked.Select(p => p.TopicPartition)));
        Notify(callbacks.PartitionsRevoked, [.. partitions.Select(p => p.TopicPartition)], nameof(callbacks.PartitionsRevoked));
    }

    /// <summary>Partitions already owned by another member: nothing may be committed for them.</summary>
    public void OnLost(List<TopicPartitionOffset> partitions)
    {
        var lost = Find(partitions);
        rotation.Clear(lost);
        Release(lost);
        KafkaLog.PartitionsLost(logger, input, lost.Count, KafkaFormat.Partitions(lost.Select(p => p.TopicPartition)));
        Notify(callbacks.PartitionsRevoked, [.. partitions.Select(p => p.TopicPartition)], nameof(callbacks.PartitionsRevoked));
    }

    /// <summary>
    /// Runs an application callback. One that throws stops the engine, but its exception must not leave librdkafka's
    /// rebalance handler: under an incremental protocol the assignment would stay open, and the consumer's close then
    /// waits for it forever (a stop that never returns).
    /// </summary>
    private void Notify(Action<IReadOnlyList<TopicPartition>>? callback, IReadOnlyList<TopicPartition> partitions, string name)
    {
        if (callback is null)
        {
            return;
        }

        try
        {
            callback(partitions);
        }
        catch (Exception error)
        {
            KafkaLog.PartitionCallbackFailed(logger, error, input, name);
            reportFatal(error);
        }
    }

    private List<PartitionState<T>> Find(List<TopicPartitionOffset> partitions) =>
        [.. partitions.Select(p => _partitions.GetValueOrDefault(p.TopicPartition)).OfType<PartitionState<T>>()];

    /// <summary>
    /// Waits for the handed-out runs (up to the revocation timeout); returns how long the revocation's commit may retry
    /// a refusal while the partitions are still this member's: at most <see cref="RevocationCommitBudget"/>, and what is
    /// left of the revocation timeout.
    /// </summary>
    private TimeSpan WaitForHandedOut(List<PartitionState<T>> states)
    {
        if (stopping())
        {
            // The engine drained (or abandoned) its runs before stopping its inputs, and the stop's last commit was already
            // retried before Close: one attempt here. Retrying for seconds inside Close's revocation handler is the
            // suspect of a librdkafka assertion seen once (rd_kafka_cgrp_terminated: assignment in progress).
            return TimeSpan.Zero;
        }

        var started = time.GetTimestamp();
        var inFlight = acknowledged.WaitUntilNone(() => states.Sum(s => s.HandedOut), revocationTimeout, time);
        if (inFlight > 0)
        {
            KafkaLog.RevocationTimedOut(logger, input, revocationTimeout, inFlight);
        }

        var left = revocationTimeout - time.GetElapsedTime(started);
        return TimeSpan.FromTicks(Math.Clamp(left.Ticks, 0, RevocationCommitBudget.Ticks));
    }

    /// <summary>Forgets partitions; acknowledgements of their runs are ignored from now on. Returns the runs still in flight.</summary>
    private int Release(List<PartitionState<T>> states)
    {
        var inFlight = 0;
        foreach (var state in states)
        {
            state.Revoke();
            inFlight += state.HandedOut;
            flow.Forget(state);
            _partitions.Remove(state.TopicPartition);
        }

        Volatile.Write(ref _count, _partitions.Count);
        return inFlight;
    }
}
