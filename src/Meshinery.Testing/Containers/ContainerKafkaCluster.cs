using System.Globalization;
using Testcontainers.Kafka;

namespace Meshinery.Testing;

/// <summary>
/// A Kafka broker in a Docker container started with Testcontainers.Kafka; topics are created with the admin API, as
/// on any existing cluster. Disposing it removes the container.
/// </summary>
internal sealed class ContainerKafkaCluster : KafkaTestCluster
{
    private readonly KafkaContainer _container;
    private readonly KafkaTestCluster _admin;

    private ContainerKafkaCluster(KafkaContainer container)
    {
        _container = container;
        // host:port, not GetBootstrapAddress()'s URI form: every client takes this form as bootstrap.servers.
        BootstrapServers = string.Create(CultureInfo.InvariantCulture, $"{container.Hostname}:{container.GetMappedPublicPort(KafkaBuilder.KafkaPort)}");
        _admin = Connect(BootstrapServers);
    }

    public override string BootstrapServers { get; }

    public override bool IsEmbedded => false;

    /// <summary>Starts a container of <paramref name="image"/>; throws <c>DockerUnavailableException</c> when no Docker engine is reachable.</summary>
    public static async Task<KafkaTestCluster> StartAsync(string image, CancellationToken cancellationToken)
    {
        var container = new KafkaBuilder(image).Build();
        try
        {
            await container.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await container.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new ContainerKafkaCluster(container);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !IsDisposed)
        {
            _admin.Dispose();
            // KafkaTestCluster disposes synchronously (DisposeAsync calls Dispose): removing the container blocks here.
            _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    private protected override ValueTask CreateTopicCoreAsync(string name, int partitions, CancellationToken cancellationToken) =>
        _admin.CreateTopicAsync(name, partitions, cancellationToken);
}
