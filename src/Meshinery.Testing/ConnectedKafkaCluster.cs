using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Meshinery.Testing;

/// <summary>An existing cluster, reached by its bootstrap servers; topics are created with the admin API.</summary>
internal sealed class ConnectedKafkaCluster : KafkaTestCluster
{
    private static readonly TimeSpan AdminTimeout = TimeSpan.FromSeconds(30);

    internal ConnectedKafkaCluster(string bootstrapServers)
    {
        BootstrapServers = bootstrapServers;
    }

    public override string BootstrapServers { get; }

    public override bool IsEmbedded => false;

    private protected override async ValueTask CreateTopicCoreAsync(string name, int partitions, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var specification = new TopicSpecification
        {
            Name = name,
            NumPartitions = partitions,
            ReplicationFactor = -1, // the broker's default.replication.factor
        };
        var options = new CreateTopicsOptions { RequestTimeout = AdminTimeout, OperationTimeout = AdminTimeout };
        try
        {
            await GetAdminClient().CreateTopicsAsync([specification], options).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (CreateTopicsException ex) when (ex.Results.TrueForAll(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
            await EnsureExistingTopicHasPartitionsAsync(name, partitions, cancellationToken).ConfigureAwait(false);
        }
    }
}
