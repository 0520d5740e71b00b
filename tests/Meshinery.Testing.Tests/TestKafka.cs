using System.Diagnostics;
using Confluent.Kafka;

namespace Meshinery.Testing.Tests;

/// <summary>Kafka clients and waits shared by the tests. Every wait has a deadline; none sleeps for a fixed time.</summary>
internal static class TestKafka
{
    /// <summary>Generous: a wait this long means something is broken, not slow.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static IProducer<string, string> CreateProducer(string bootstrapServers, int? messageTimeoutMs = null) =>
        new ProducerBuilder<string, string>(new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            MessageTimeoutMs = messageTimeoutMs ?? (int)Deadline.TotalMilliseconds,
            LingerMs = 5,
        }).Build();

    public static IConsumer<string, string> CreateConsumer(string bootstrapServers, string groupId) =>
        new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = groupId,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();

    public static IAdminClient CreateAdminClient(string bootstrapServers) =>
        new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers }).Build();

    /// <summary>Metadata of all topics; asking for one topic by name could create it implicitly.</summary>
    public static Metadata GetMetadata(string bootstrapServers)
    {
        using var admin = CreateAdminClient(bootstrapServers);
        return admin.GetMetadata(Deadline);
    }

    public static TopicMetadata? FindTopic(this Metadata metadata, string topic) =>
        metadata.Topics.Find(t => t.Topic == topic);

    /// <summary>Consumes until <paramref name="count"/> messages arrived or the deadline passed.</summary>
    public static List<ConsumeResult<string, string>> ConsumeUntil(
        IConsumer<string, string> consumer, int count, TimeSpan deadline)
    {
        var results = new List<ConsumeResult<string, string>>(count);
        var clock = Stopwatch.StartNew();
        while (results.Count < count && clock.Elapsed < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(250));
            if (result is { IsPartitionEOF: false })
            {
                results.Add(result);
            }
        }

        return results;
    }
}
