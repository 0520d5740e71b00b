using System.Net.Sockets;

namespace Meshinery.Testing.Tests;

public class DisposeTests
{
    [Fact]
    public async Task Dispose_CalledTwiceAndThenDisposeAsync_DoesNotThrow()
    {
        var cluster = KafkaTestCluster.StartEmbedded();

        cluster.Dispose();
        cluster.Invoking(c => c.Dispose()).Should().NotThrow();
        await cluster.Awaiting(c => c.DisposeAsync().AsTask()).Should().NotThrowAsync();
    }

    [Fact]
    public void Dispose_EmbeddedCluster_ClosesBrokerPorts()
    {
        var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });
        var endpoints = cluster.BootstrapServers.Split(',').Select(ParseEndpoint).ToList();
        foreach (var (host, port) in endpoints)
        {
            CanConnect(host, port).Should().BeTrue("the broker listens until the cluster is disposed");
        }

        cluster.Dispose();

        // A cluster started by a parallel test could take a freed port in between; with thousands of ephemeral
        // ports to choose from, that is too unlikely to matter.
        foreach (var (host, port) in endpoints)
        {
            CanConnect(host, port).Should().BeFalse("the mock cluster was destroyed");
        }
    }

    [Fact]
    public async Task Dispose_ThenUse_ThrowsObjectDisposed()
    {
        var cluster = KafkaTestCluster.StartEmbedded();
        cluster.Dispose();

        await cluster.Awaiting(c => c.CreateTopicAsync("late", 1).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
        cluster.Invoking(c => c.SetBrokerDown(1)).Should().Throw<ObjectDisposedException>();
        cluster.Invoking(c => c.SetBrokerUp(1)).Should().Throw<ObjectDisposedException>();
        cluster.BootstrapServers.Should().NotBeEmpty("the address stays readable for diagnostics");
    }

    [Fact]
    public async Task Dispose_ConcurrentCallsWhileCreatingTopics_EveryCallReturnsCleanly()
    {
        var cluster = KafkaTestCluster.StartEmbedded();
        using var start = new Barrier(8);

        // Topic creations racing the disposals either succeed or see ObjectDisposedException; a double destroy or a
        // use after free would crash the test process instead.
        // Dedicated threads: eight blocked pool threads would starve the two-core thread pool.
        var workers = Enumerable.Range(0, 8).Select(i => Task.Factory.StartNew(async () =>
        {
            start.SignalAndWait(TestKafka.Deadline);
            if (i % 2 == 0)
            {
                cluster.Dispose();
                return;
            }

            try
            {
                await cluster.CreateTopicAsync($"race-{i}", 1);
            }
            catch (ObjectDisposedException)
            {
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap());

        await Task.WhenAll(workers).WaitAsync(TestKafka.Deadline);
        await cluster.Awaiting(c => c.CreateTopicAsync("after", 1).AsTask()).Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task Dispose_ConnectedCluster_LeavesTheClusterRunning()
    {
        await using var embedded = KafkaTestCluster.StartEmbedded();
        await embedded.CreateTopicAsync("kept", 1);

        var connected = KafkaTestCluster.Connect(embedded.BootstrapServers);
        connected.Dispose();
        connected.Dispose();

        TestKafka.GetMetadata(embedded.BootstrapServers).FindTopic("kept").Should().NotBeNull();
    }

    private static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        var separator = endpoint.LastIndexOf(':');
        return (endpoint[..separator], int.Parse(endpoint[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    private static bool CanConnect(string host, int port)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(host, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
