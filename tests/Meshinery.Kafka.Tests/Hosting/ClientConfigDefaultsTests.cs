using Confluent.Kafka;

namespace Meshinery.Kafka.Tests.Hosting;

public class ClientConfigDefaultsTests
{
    [Fact]
    public void CreateConfigs_NothingSet_ReconnectAndFetchErrorBackoffsAreShort()
    {
        var options = new KafkaOptions();

        var consumer = options.CreateConsumerConfig("localhost:9092", "g", new Dictionary<string, string>());
        var producer = options.CreateProducerConfig("localhost:9092", new Dictionary<string, string>());

        consumer.ReconnectBackoffMs.Should().Be(100);
        consumer.ReconnectBackoffMaxMs.Should().Be(1_000);
        consumer.FetchErrorBackoffMs.Should().Be(100);
        producer.ReconnectBackoffMs.Should().Be(100);
        producer.ReconnectBackoffMaxMs.Should().Be(1_000);
    }

    [Fact]
    public void CreateConfigs_UserSetBackoffs_UserValuesKept()
    {
        var options = new KafkaOptions();
        options.ConsumerConfig["reconnect.backoff.max.ms"] = "10000";
        options.ProducerConfig["reconnect.backoff.ms"] = "50";
        var inputOverrides = new Dictionary<string, string> { ["fetch.error.backoff.ms"] = "500" };

        var consumer = options.CreateConsumerConfig("localhost:9092", "g", inputOverrides);
        var producer = options.CreateProducerConfig("localhost:9092", new Dictionary<string, string>());

        consumer.ReconnectBackoffMaxMs.Should().Be(10_000);
        consumer.FetchErrorBackoffMs.Should().Be(500);
        producer.ReconnectBackoffMs.Should().Be(50);
        producer.ReconnectBackoffMaxMs.Should().Be(1_000);
    }
}
