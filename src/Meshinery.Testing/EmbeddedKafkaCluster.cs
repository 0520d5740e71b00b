using System.Runtime.InteropServices;
using Confluent.Kafka;
using Meshinery.Testing.Native;

namespace Meshinery.Testing;

/// <summary>
/// A Kafka-protocol cluster running in this process: librdkafka's mock broker, listening on loopback ports and
/// keeping everything in memory. Start one with <see cref="KafkaTestCluster.StartEmbedded"/>.
/// </summary>
/// <remarks>
/// It speaks enough of the protocol for producers, consumers, consumer groups and offset commits, but it is a test
/// double: the admin API's CreateTopics is not supported (use <see cref="KafkaTestCluster.CreateTopicAsync"/>), each
/// partition keeps only its most recent 5 MB (at most 100,000 produce batches) and drops older messages as retention
/// would, and stopping a broker does not move partition leadership.
/// <para>
/// Keep a reference and dispose the cluster when done: like other native resources, a cluster that is no longer
/// referenced is stopped when the garbage collector finalizes it, even if clients still use its address.
/// </para>
/// </remarks>
public sealed class EmbeddedKafkaCluster : KafkaTestCluster
{
    private readonly MockClusterHandle handle;
    private readonly int replicationFactor;

    private EmbeddedKafkaCluster(MockClusterHandle handle, string bootstrapServers, int brokerCount)
    {
        this.handle = handle;
        BootstrapServers = bootstrapServers;
        BrokerCount = brokerCount;

        // What the mock broker uses for implicitly created topics, so all topics look alike.
        replicationFactor = Math.Min(3, brokerCount);
    }

    /// <inheritdoc />
    public override string BootstrapServers { get; }

    /// <inheritdoc />
    public override bool IsEmbedded => true;

    /// <summary>The number of brokers; their ids are 1 to <see cref="BrokerCount"/>.</summary>
    public int BrokerCount { get; }

    /// <summary>
    /// Takes a broker down: its connections are closed and new ones refused until <see cref="SetBrokerUp"/>.
    /// Partitions it leads keep it as their leader, so clients cannot produce to or fetch from them meanwhile.
    /// </summary>
    /// <param name="brokerId">The broker id, from 1 to <see cref="BrokerCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerId"/> is not a broker of this cluster.</exception>
    /// <exception cref="ObjectDisposedException">The cluster has been disposed.</exception>
    public void SetBrokerDown(int brokerId)
    {
        ValidateBrokerId(brokerId);
        ThrowIfError(NativeMethods.rd_kafka_mock_broker_set_down(handle, brokerId), $"Setting broker {brokerId} down");
    }

    /// <summary>Lets a broker taken down by <see cref="SetBrokerDown"/> accept connections again.</summary>
    /// <param name="brokerId">The broker id, from 1 to <see cref="BrokerCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerId"/> is not a broker of this cluster.</exception>
    /// <exception cref="ObjectDisposedException">The cluster has been disposed.</exception>
    public void SetBrokerUp(int brokerId)
    {
        ValidateBrokerId(brokerId);
        ThrowIfError(NativeMethods.rd_kafka_mock_broker_set_up(handle, brokerId), $"Setting broker {brokerId} up");
    }

    /// <summary>
    /// Makes <paramref name="brokerId"/> the leader of one partition, so that a test can take exactly that partition's
    /// leader down (<see cref="SetBrokerDown"/>) while the rest of the cluster works. Clients learn of the move from
    /// their next metadata request.
    /// </summary>
    /// <param name="topic">A topic created with <see cref="KafkaTestCluster.CreateTopicAsync"/>.</param>
    /// <param name="partition">The partition, from 0.</param>
    /// <param name="brokerId">The broker id, from 1 to <see cref="BrokerCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerId"/> is not a broker of this cluster.</exception>
    /// <exception cref="ArgumentException"><paramref name="topic"/> is not a valid topic name.</exception>
    /// <exception cref="KafkaException">The mock broker refused the change.</exception>
    /// <exception cref="ObjectDisposedException">The cluster has been disposed.</exception>
    public void SetPartitionLeader(string topic, int partition, int brokerId)
    {
        TopicNames.Validate(topic, nameof(topic));
        ValidateBrokerId(brokerId);
        ThrowIfError(
            NativeMethods.rd_kafka_mock_partition_set_leader(handle, topic, partition, brokerId),
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Making broker {brokerId} the leader of {topic}[{partition}]"));
    }

    /// <summary>
    /// Makes <paramref name="brokerId"/> the coordinator of a consumer group (its joins, heartbeats and offset commits),
    /// so that a test can keep the group working while it takes another broker down, or take the coordinator down.
    /// </summary>
    /// <param name="groupId">The consumer group id; the group need not exist yet.</param>
    /// <param name="brokerId">The broker id, from 1 to <see cref="BrokerCount"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="brokerId"/> is not a broker of this cluster.</exception>
    /// <exception cref="ArgumentException"><paramref name="groupId"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The cluster has been disposed.</exception>
    public void SetGroupCoordinator(string groupId, int brokerId)
    {
        ArgumentException.ThrowIfNullOrEmpty(groupId);
        ValidateBrokerId(brokerId);
        ThrowIfError(
            NativeMethods.rd_kafka_mock_coordinator_set(handle, "group", groupId, brokerId),
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Making broker {brokerId} the coordinator of group '{groupId}'"));
    }

    /// <summary>
    /// Makes the cluster answer the next requests of one kind with the given errors, one error per request, in order,
    /// whichever client sends them; later requests are served normally again. Use it to test how a client or an
    /// application copes with a broker's error responses.
    /// </summary>
    /// <param name="apiKey">
    /// The Kafka protocol API key of the requests to fail, for example 0 (Produce), 1 (Fetch), 8 (OffsetCommit),
    /// 11 (JoinGroup), 12 (Heartbeat) or 14 (SyncGroup).
    /// </param>
    /// <param name="errors">The error of each failed request: the first for the next request, and so on.</param>
    /// <example>
    /// A consumer group member whose next heartbeat is answered with <see cref="ErrorCode.FencedInstanceId"/> stops with
    /// a fatal error, as a static member replaced by another instance does:
    /// <code>cluster.FailNextRequests(12, ErrorCode.FencedInstanceId);</code>
    /// </example>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="apiKey"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="errors"/> is empty.</exception>
    /// <exception cref="ObjectDisposedException">The cluster has been disposed.</exception>
    public unsafe void FailNextRequests(short apiKey, params ErrorCode[] errors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(apiKey);
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Length == 0)
        {
            throw new ArgumentException("Name at least one error.", nameof(errors));
        }

        ObjectDisposedException.ThrowIf(IsDisposed, this);
        fixed (ErrorCode* first = errors)
        {
            NativeMethods.rd_kafka_mock_push_request_errors_array(handle, apiKey, (nuint)errors.Length, first);
        }
    }

    internal static EmbeddedKafkaCluster Start(EmbeddedKafkaClusterOptions options)
    {
        var topics = options.Topics.Distinct(StringComparer.Ordinal).ToList();
        foreach (var topic in topics)
        {
            TopicNames.Validate(topic, nameof(options));
        }

        var handle = MockClusterHandle.Create(options.Brokers);
        try
        {
            SetInitialRebalanceDelay(handle, options.InitialRebalanceDelay);
            var bootstrapServers = Marshal.PtrToStringUTF8(NativeMethods.rd_kafka_mock_cluster_bootstraps(handle))
                ?? throw new InvalidOperationException("librdkafka returned no bootstrap servers for the mock cluster.");
            var cluster = new EmbeddedKafkaCluster(handle, bootstrapServers, options.Brokers);
            foreach (var topic in topics)
            {
                cluster.CreateTopicNative(topic, options.DefaultPartitions);
            }

            return cluster;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        // Clients before brokers, so the admin client does not log the brokers' disappearance.
        base.Dispose(disposing);
        if (disposing)
        {
            handle.Dispose();
        }
    }

    private protected override async ValueTask CreateTopicCoreAsync(string name, int partitions, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!CreateTopicNative(name, partitions))
        {
            await EnsureExistingTopicHasPartitionsAsync(name, partitions, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates the topic; returns <see langword="false"/> when it already exists.</summary>
    private bool CreateTopicNative(string name, int partitions)
    {
        var error = NativeMethods.rd_kafka_mock_topic_create(handle, name, partitions, replicationFactor);
        if (error == ErrorCode.TopicAlreadyExists)
        {
            return false;
        }

        ThrowIfError(error, $"Creating topic '{name}' with {partitions} partition(s) on the embedded Kafka cluster");
        return true;
    }

    private static void SetInitialRebalanceDelay(MockClusterHandle handle, TimeSpan delay)
    {
        try
        {
            NativeMethods.rd_kafka_mock_group_initial_rebalance_delay_ms(handle, (int)delay.TotalMilliseconds);
        }
        catch (EntryPointNotFoundException)
        {
            // An older librdkafka (a system one, such as Debian 12's 2.0.2, where NuGet serves no librdkafka.redist)
            // has no such setting: its groups wait the mock broker's fixed 3 seconds before their first rebalance.
        }
    }

    private void ValidateBrokerId(int brokerId)
    {
        // The handle would refuse too, but with a message that names no cluster.
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (brokerId < 1 || brokerId > BrokerCount)
        {
            throw new ArgumentOutOfRangeException(
                nameof(brokerId), brokerId, $"Broker ids of this cluster run from 1 to {BrokerCount}.");
        }
    }

    private static void ThrowIfError(ErrorCode error, string operation)
    {
        if (error != ErrorCode.NoError)
        {
            throw LibrdkafkaErrors.ToException(error, operation);
        }
    }
}
