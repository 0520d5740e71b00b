using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// How many partitions each topic an output writes to has, asked of the cluster through the producer's own
/// connection the first time a topic is used and again when a chosen partition is beyond the count known (the topic
/// may have grown).
/// </summary>
internal sealed class PartitionCounts(Func<IAdminClient> admin)
{
    private static readonly TimeSpan s_metadataTimeout = TimeSpan.FromSeconds(10);
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    /// <summary>The count known (asked once, then cached); <paramref name="refresh"/> asks again.</summary>
    public ValueTask<int> GetAsync(string topic, bool refresh)
    {
        if (!refresh && _counts.TryGetValue(topic, out var known))
        {
            return ValueTask.FromResult(known);
        }

        // A blocking metadata request: off the caller's thread.
        return new ValueTask<int>(Task.Run(() => _counts[topic] = Ask(topic)));
    }

    private int Ask(string topic)
    {
        var metadata = admin().GetMetadata(topic, s_metadataTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
        return metadata is null || metadata.Error.IsError || metadata.Partitions.Count == 0
            ? throw new KafkaRoutingException("Topic", $"topic '{topic}' does not exist or has no partitions ({metadata?.Error.Reason ?? "no metadata"})")
            : metadata.Partitions.Count;
    }
}
