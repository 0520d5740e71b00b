using Microsoft.Extensions.Logging;

namespace Meshinery.Testing;

/// <summary>The test kit's log messages (category <c>Meshinery.Testing</c>), with stable event ids.</summary>
internal static partial class TestingLog
{
    [LoggerMessage(300, LogLevel.Information, "Kafka for tests: the existing cluster at {BootstrapServers} (from {Variable})")]
    public static partial void UsingExistingCluster(ILogger logger, string bootstrapServers, string variable);

    [LoggerMessage(301, LogLevel.Information, "Kafka for tests: a Testcontainers.Kafka container ({Image}) at {BootstrapServers}")]
    public static partial void UsingContainer(ILogger logger, string image, string bootstrapServers);

    [LoggerMessage(302, LogLevel.Warning, "Kafka for tests: {Variable} asks for a container, but no Docker engine is reachable ({Reason}); using the embedded cluster at {BootstrapServers} instead")]
    public static partial void DockerUnavailable(ILogger logger, string variable, string reason, string bootstrapServers);

    [LoggerMessage(303, LogLevel.Information, "Kafka for tests: the embedded cluster at {BootstrapServers} (set {Variable}=true for a Testcontainers.Kafka container)")]
    public static partial void UsingEmbedded(ILogger logger, string bootstrapServers, string variable);
}
