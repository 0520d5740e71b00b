using Confluent.Kafka;
using Meshinery.Testing.Native;

namespace Meshinery.Testing.Tests;

public class NativeLibraryTests
{
    [Fact]
    public void StartEmbedded_AlongsideConfluentClient_ProcessMapsOneLibrdkafka()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc/self/maps is Linux only.
        }

        using var cluster = KafkaTestCluster.StartEmbedded();
        using var producer = TestKafka.CreateProducer(cluster.BootstrapServers);

        var mapped = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && Path.GetFileName(fields[^1]).Contains("librdkafka", StringComparison.Ordinal))
            .Select(fields => fields[^1])
            .Distinct()
            .ToList();

        mapped.Should().ContainSingle("the mock cluster must use the librdkafka instance Confluent.Kafka loaded");
    }

    [Theory]
    [InlineData(ErrorCode.TopicAlreadyExists, "TOPIC_ALREADY_EXISTS")]
    [InlineData(ErrorCode.InvalidPartitions, "INVALID_PARTITIONS")]
    [InlineData(ErrorCode.Local_UnknownBroker, "_UNKNOWN_BROKER")]
    public void ToException_LibrdkafkaError_CarriesCodeAndLibrdkafkaName(ErrorCode code, string name)
    {
        var exception = LibrdkafkaErrors.ToException(code, "Creating topic 'orders'");

        exception.Error.Code.Should().Be(code);
        exception.Message.Should().StartWith($"Creating topic 'orders' failed: {name} (");
    }
}
