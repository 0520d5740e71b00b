using System.Globalization;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>How partitions and offsets appear in log messages.</summary>
internal static class KafkaFormat
{
    /// <summary>Formats a partition as <c>topic[partition]</c> (Confluent's own format is <c>topic [[partition]]</c>).</summary>
    public static string Partition(TopicPartition partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{partition.Topic}[{partition.Partition.Value}]");

    public static string Partitions(IEnumerable<TopicPartition> partitions) => string.Join(", ", partitions.Select(Partition));

    public static string Offsets(IEnumerable<KeyValuePair<TopicPartition, long>> offsets) =>
        string.Join(", ", offsets.OrderBy(o => o.Key.Topic, StringComparer.Ordinal).ThenBy(o => o.Key.Partition.Value)
            .Select(o => string.Create(CultureInfo.InvariantCulture, $"{Partition(o.Key)}={o.Value}")));
}
