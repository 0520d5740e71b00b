namespace Meshinery.Testing;

/// <summary>How <see cref="KafkaTestCluster.StartEmbedded"/> sets up an embedded cluster.</summary>
public sealed class EmbeddedKafkaClusterOptions
{
    /// <summary>The partition count librdkafka's mock broker gives topics that clients create implicitly.</summary>
    internal const int MockAutoCreatePartitions = 4;

    private int brokers = 1;
    private int defaultPartitions = MockAutoCreatePartitions;
    private TimeSpan initialRebalanceDelay = TimeSpan.Zero;

    /// <summary>
    /// The number of brokers, each listening on its own loopback port; their ids are 1 to <see cref="Brokers"/>.
    /// Default: 1. Use more to test broker trouble with <see cref="EmbeddedKafkaCluster.SetBrokerDown"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int Brokers
    {
        get => brokers;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Brokers));
            brokers = value;
        }
    }

    /// <summary>Topics to create when the cluster starts, each with <see cref="DefaultPartitions"/> partitions. Default: none.</summary>
    public IList<string> Topics { get; } = new List<string>();

    /// <summary>
    /// The partition count of the topics in <see cref="Topics"/>. Default: 4, the count the mock broker gives topics
    /// that a client creates implicitly (by producing to or subscribing to an unknown topic), which cannot be changed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int DefaultPartitions
    {
        get => defaultPartitions;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(DefaultPartitions));
            defaultPartitions = value;
        }
    }

    /// <summary>
    /// The brokers' <c>group.initial.rebalance.delay.ms</c>: how long a new consumer group waits for more members
    /// before its first rebalance. Default: zero, so a consumer starts receiving as soon as it has joined; real
    /// brokers (and the mock broker when left alone) wait 3 seconds. A librdkafka older than the one
    /// <c>librdkafka.redist</c> brings (Debian 12's 2.0.2) cannot change it: its groups always wait 3 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than <see cref="int.MaxValue"/> milliseconds.</exception>
    public TimeSpan InitialRebalanceDelay
    {
        get => initialRebalanceDelay;
        set
        {
            if (value < TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(InitialRebalanceDelay), value, "The initial rebalance delay must be between zero and int.MaxValue milliseconds.");
            }

            initialRebalanceDelay = value;
        }
    }
}
