using System.Globalization;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// What can only be checked against the cluster, at start: the partition counts of copartitioned topics, and the
/// partitions a static or custom assignment picks.
/// </summary>
internal static class AssignmentCheck
{
    private static readonly TimeSpan s_metadataTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Checks the input's topics and returns the partitions to assign itself (<see langword="null"/> for a group member).
    /// </summary>
    /// <exception cref="MeshineryConfigurationException">A topic count or a partition does not fit.</exception>
    public static IReadOnlyList<TopicPartition>? Run<T>(
        string taskName, string input, IReadOnlyList<string> topics, KafkaInputSettings<T> settings, IConsumer<byte[], byte[]> consumer)
    {
        if (!settings.Copartitioned && settings.Assignment is not ManualAssignment)
        {
            return null;
        }

        var counts = PartitionCounts(consumer, topics);
        if (settings.Copartitioned && counts.Values.Distinct().Count() > 1)
        {
            throw new MeshineryConfigurationException(taskName, "Copartitioned", string.Create(CultureInfo.InvariantCulture,
                $"Kafka input '{input}' declares its topics copartitioned, but their partition counts differ: {string.Join(", ", topics.Select(t => $"{t} has {counts[t]}"))}"));
        }

        if (settings.Assignment is not ManualAssignment manual)
        {
            return null;
        }

        var all = topics.SelectMany(t => Enumerable.Range(0, counts[t]).Select(p => new TopicPartition(t, p))).ToList();
        var mine = manual.Choose(all) ?? [];
        var missing = mine.Where(p => !all.Contains(p)).ToList();
        if (missing.Count > 0)
        {
            throw new MeshineryConfigurationException(taskName, "Assignment", string.Create(CultureInfo.InvariantCulture,
                $"Kafka input '{input}' ({manual}) names partition(s) that do not exist: {string.Join(", ", missing.Select(p => $"{KafkaFormat.Partition(p)} ({(counts.TryGetValue(p.Topic, out var c) ? $"{p.Topic} has {c} partition(s)" : $"{p.Topic} is not read by this input")})"))}"));
        }

        if (settings.Copartitioned && mine.GroupBy(p => p.Partition.Value).FirstOrDefault(g => g.Count() != topics.Count) is { } split)
        {
            throw new MeshineryConfigurationException(taskName, "Assignment", string.Create(CultureInfo.InvariantCulture,
                $"Kafka input '{input}' is copartitioned, but its assignment ({manual}) picks partition {split.Key} of {string.Join(", ", split.Select(p => p.Topic))} only; pick partition {split.Key} of every topic"));
        }

        return mine;
    }

    private static Dictionary<string, int> PartitionCounts(IConsumer<byte[], byte[]> consumer, IReadOnlyList<string> topics)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var metadata = admin.GetMetadata(topic, s_metadataTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
            counts[topic] = metadata is null || metadata.Error.IsError ? 0 : metadata.Partitions.Count;
        }

        return counts;
    }
}
