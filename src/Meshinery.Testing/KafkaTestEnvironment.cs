using DotNet.Testcontainers.Builders;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meshinery.Testing;

/// <summary>
/// Chooses the Kafka cluster for a test run from environment variables, starts it and logs the choice: the existing
/// cluster of <see cref="KafkaTestCluster.BootstrapServersEnvironmentVariable"/> when it is set; otherwise a
/// Testcontainers.Kafka container when <see cref="UseContainersEnvironmentVariable"/> is <c>true</c> and a Docker
/// engine is reachable; otherwise (also when Docker is not reachable: logged as a warning) the embedded cluster.
/// </summary>
/// <example>
/// <code>
/// await using var cluster = await KafkaTestEnvironment.StartClusterAsync(logger);
/// await cluster.CreateTopicAsync("orders", partitions: 4);
/// </code>
/// </example>
public static class KafkaTestEnvironment
{
    /// <summary>
    /// <c>MESHINERY_KAFKA_TESTCONTAINERS</c>: <c>true</c> or <c>1</c> asks for a container, <c>false</c>, <c>0</c> or
    /// unset for none; any other value fails the start naming the variable.
    /// </summary>
    public const string UseContainersEnvironmentVariable = "MESHINERY_KAFKA_TESTCONTAINERS";

    /// <summary><c>MESHINERY_KAFKA_TESTCONTAINERS_IMAGE</c>: the container image. Default: <see cref="DefaultContainerImage"/>.</summary>
    public const string ContainerImageEnvironmentVariable = "MESHINERY_KAFKA_TESTCONTAINERS_IMAGE";

    /// <summary>The image Testcontainers.Kafka uses by default: <c>confluentinc/cp-kafka:7.5.12</c>.</summary>
    public const string DefaultContainerImage = "confluentinc/cp-kafka:7.5.12";

    /// <summary>Starts (or connects to) the cluster the environment variables choose, and logs the choice.</summary>
    /// <param name="logger">Where the choice is logged (category <c>Meshinery.Testing</c> suggested); default none.</param>
    /// <param name="options">Used only when the embedded cluster is started.</param>
    /// <param name="cancellationToken">Stops waiting for a container to start.</param>
    /// <returns>The cluster; dispose it when done (a container is removed, an embedded cluster stopped).</returns>
    /// <exception cref="ArgumentException"><see cref="UseContainersEnvironmentVariable"/> holds something other than true, false, 1 or 0.</exception>
    public static Task<KafkaTestCluster> StartClusterAsync(
        ILogger? logger = null,
        EmbeddedKafkaClusterOptions? options = null,
        CancellationToken cancellationToken = default) =>
        StartClusterAsync(
            new Settings(
                Environment.GetEnvironmentVariable(KafkaTestCluster.BootstrapServersEnvironmentVariable),
                Environment.GetEnvironmentVariable(UseContainersEnvironmentVariable),
                Environment.GetEnvironmentVariable(ContainerImageEnvironmentVariable)),
            ContainerKafkaCluster.StartAsync,
            logger ?? NullLogger.Instance,
            options,
            cancellationToken);

    /// <summary>The choice itself, given the variables' values and how to start a container.</summary>
    internal static async Task<KafkaTestCluster> StartClusterAsync(
        Settings settings,
        Func<string, CancellationToken, Task<KafkaTestCluster>> startContainer,
        ILogger logger,
        EmbeddedKafkaClusterOptions? options,
        CancellationToken cancellationToken)
    {
        var useContainers = ParseSwitch(settings.UseContainers);
        if (!string.IsNullOrWhiteSpace(settings.BootstrapServers))
        {
            var existing = KafkaTestCluster.Connect(settings.BootstrapServers);
            TestingLog.UsingExistingCluster(logger, existing.BootstrapServers, KafkaTestCluster.BootstrapServersEnvironmentVariable);
            return existing;
        }

        if (useContainers)
        {
            var image = string.IsNullOrWhiteSpace(settings.Image) ? DefaultContainerImage : settings.Image.Trim();
            try
            {
                var container = await startContainer(image, cancellationToken).ConfigureAwait(false);
                TestingLog.UsingContainer(logger, image, container.BootstrapServers);
                return container;
            }
            catch (DockerUnavailableException error)
            {
                // Only a missing engine falls back: a reachable engine that fails (no image, no registry) is a real error.
                var embedded = KafkaTestCluster.StartEmbedded(options);
                TestingLog.DockerUnavailable(logger, UseContainersEnvironmentVariable, error.Message, embedded.BootstrapServers);
                return embedded;
            }
        }

        var cluster = KafkaTestCluster.StartEmbedded(options);
        TestingLog.UsingEmbedded(logger, cluster.BootstrapServers, UseContainersEnvironmentVariable);
        return cluster;
    }

    private static bool ParseSwitch(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "0" or "FALSE" => false,
        "1" or "TRUE" => true,
        _ => throw new ArgumentException(
            $"The environment variable {UseContainersEnvironmentVariable} must be true, false, 1 or 0 (was '{value}').", nameof(value)),
    };

    /// <summary>The environment variables' values.</summary>
    internal sealed record Settings(string? BootstrapServers, string? UseContainers, string? Image);
}
