using DotNet.Testcontainers.Builders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.Testing.Tests;

/// <summary>
/// <see cref="KafkaTestEnvironment"/>: which cluster the variables choose, and that the choice is logged. These machines
/// have no Docker engine, so the container path itself is exercised only up to Testcontainers' own check for one.
/// </summary>
public class KafkaTestEnvironmentTests
{
    [Fact]
    public async Task StartCluster_NothingSet_StartsEmbeddedAndLogsHowToAskForAContainer()
    {
        var logger = new FakeLogger();

        await using var cluster = await StartAsync(new(null, null, null), NoContainer, logger);

        cluster.Should().BeOfType<EmbeddedKafkaCluster>();
        var record = logger.LatestRecord;
        record.Id.Id.Should().Be(303);
        record.Level.Should().Be(LogLevel.Information);
        record.Message.Should().Be($"Kafka for tests: the embedded cluster at {cluster.BootstrapServers} (set MESHINERY_KAFKA_TESTCONTAINERS=true for a Testcontainers.Kafka container)");
        TestKafka.GetMetadata(cluster.BootstrapServers).Brokers.Should().ContainSingle();
    }

    [Theory]
    [InlineData("true")]
    [InlineData(" 1 ")]
    [InlineData("TRUE")]
    public async Task StartCluster_ContainersRequestedAndStarterSucceeds_UsesTheContainerAndLogsIt(string value)
    {
        var logger = new FakeLogger();
        string? startedImage = null;
        var standIn = KafkaTestCluster.Connect("container-host:49153"); // what a started container would hand back

        await using var cluster = await StartAsync(new(null, value, "apache/kafka:3.9.0"), (image, _) =>
        {
            startedImage = image;
            return Task.FromResult(standIn);
        }, logger);

        cluster.Should().BeSameAs(standIn);
        startedImage.Should().Be("apache/kafka:3.9.0");
        logger.LatestRecord.Id.Id.Should().Be(301);
        logger.LatestRecord.Message.Should().Be("Kafka for tests: a Testcontainers.Kafka container (apache/kafka:3.9.0) at container-host:49153");
    }

    [Fact]
    public async Task StartCluster_ContainersRequestedWithoutImage_AsksForTheDefaultImage()
    {
        string? startedImage = null;

        await using var cluster = await StartAsync(new(null, "true", "  "), (image, _) =>
        {
            startedImage = image;
            return Task.FromResult(KafkaTestCluster.Connect("container-host:49153"));
        }, new FakeLogger());

        startedImage.Should().Be(KafkaTestEnvironment.DefaultContainerImage).And.Be("confluentinc/cp-kafka:7.5.12");
    }

    [Fact]
    public async Task StartCluster_ContainersRequestedButDockerUnavailable_FallsBackToEmbeddedWithAWarning()
    {
        var logger = new FakeLogger();

        await using var cluster = await StartAsync(
            new(null, "true", null),
            (_, _) => throw new DockerUnavailableException("Docker is either not running or misconfigured."),
            logger);

        cluster.Should().BeOfType<EmbeddedKafkaCluster>();
        logger.LatestRecord.Id.Id.Should().Be(302);
        logger.LatestRecord.Level.Should().Be(LogLevel.Warning);
        logger.LatestRecord.Message.Should().Be(
            "Kafka for tests: MESHINERY_KAFKA_TESTCONTAINERS asks for a container, but no Docker engine is reachable " +
            $"(Docker is either not running or misconfigured.); using the embedded cluster at {cluster.BootstrapServers} instead");
    }

    [Fact]
    public async Task StartCluster_ContainersRequestedAndDockerFailsOtherwise_Throws()
    {
        var start = () => StartAsync(
            new(null, "true", null), (_, _) => throw new InvalidOperationException("pull access denied"), new FakeLogger());

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("pull access denied");
    }

    [Fact]
    public async Task StartCluster_BootstrapServersAndContainersSet_ConnectsToTheExistingCluster()
    {
        var logger = new FakeLogger();

        await using var cluster = await StartAsync(new(" kafka-1:9092 ", "true", null), NoContainer, logger);

        cluster.IsEmbedded.Should().BeFalse();
        cluster.BootstrapServers.Should().Be("kafka-1:9092");
        logger.LatestRecord.Message.Should().Be("Kafka for tests: the existing cluster at kafka-1:9092 (from MESHINERY_KAFKA_BOOTSTRAP_SERVERS)");
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("on")]
    public async Task StartCluster_UnknownSwitchValue_FailsNamingTheVariable(string value)
    {
        var start = () => StartAsync(new(null, value, null), NoContainer, new FakeLogger());

        (await start.Should().ThrowAsync<ArgumentException>()).Which.Message.Should()
            .Contain($"MESHINERY_KAFKA_TESTCONTAINERS must be true, false, 1 or 0 (was '{value}')");
    }

    [Fact]
    public async Task StartCluster_RealTestcontainersOnThisMachine_FallsBackWhenItFindsNoDockerEngine()
    {
        // The real starter: Testcontainers looks for a Docker engine. The project's build and CI machines have none, so
        // it must report DockerUnavailableException and the embedded cluster must serve instead. (On a machine with
        // Docker this test fails by design: the container path would run, which these machines cannot check.)
        var logger = new FakeLogger();

        await using var cluster = await StartAsync(new(null, "true", null), ContainerKafkaCluster.StartAsync, logger);

        cluster.Should().BeOfType<EmbeddedKafkaCluster>();
        logger.LatestRecord.Id.Id.Should().Be(302, "a Docker engine was found: {0}", logger.LatestRecord.Message);
        await cluster.CreateTopicAsync("after-fallback", partitions: 2);
        TestKafka.GetMetadata(cluster.BootstrapServers).Topics.Should().Contain(t => t.Topic == "after-fallback");
    }

    private static Task<KafkaTestCluster> StartAsync(
        KafkaTestEnvironment.Settings settings, Func<string, CancellationToken, Task<KafkaTestCluster>> startContainer, ILogger logger) =>
        KafkaTestEnvironment.StartClusterAsync(settings, startContainer, logger, options: null, CancellationToken.None);

    private static Task<KafkaTestCluster> NoContainer(string image, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("no container should be started here");
}
