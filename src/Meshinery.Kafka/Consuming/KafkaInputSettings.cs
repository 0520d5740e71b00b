using System.Globalization;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// A <see cref="KafkaInput{T}"/>'s settings with the shared <see cref="KafkaOptions"/> applied, resolved and checked
/// once, when the engine is built.
/// </summary>
internal sealed record KafkaInputSettings<T>(
    string BootstrapServers,
    string GroupId,
    KafkaDelivery Delivery,
    int MaxPendingPerPartition,
    TimeSpan CommitInterval,
    TimeSpan RevocationTimeout,
    IDeserializer<T> Deserializer,
    ConsumerConfig ConsumerConfig)
{
    /// <summary>Resolves the settings; every problem is added to <paramref name="problems"/> (setting, what is wrong).</summary>
    public static KafkaInputSettings<T>? Resolve(
        string input, KafkaInputOptions<T> options, KafkaOptions shared, List<KeyValuePair<string, string>> problems)
    {
        var count = problems.Count;
        var bootstrapServers = options.BootstrapServers ?? shared.BootstrapServers;
        if (string.IsNullOrWhiteSpace(bootstrapServers))
        {
            problems.Add(new("BootstrapServers", $"Kafka input '{input}' has no bootstrap servers; call UseKafka(kafka => kafka.BootstrapServers = ...) or set them on the input"));
        }

        var groupId = options.GroupId ?? shared.GroupId;
        if (string.IsNullOrWhiteSpace(groupId))
        {
            problems.Add(new("GroupId", $"Kafka input '{input}' has no consumer group; set KafkaOptions.GroupId or the input's GroupId"));
        }

        var delivery = options.Delivery ?? shared.Delivery;
        if (!Enum.IsDefined(delivery))
        {
            problems.Add(new("Delivery", string.Create(CultureInfo.InvariantCulture, $"Kafka input '{input}': {(int)delivery} is not a KafkaDelivery value")));
        }

        var maxPending = options.MaxPendingPerPartition ?? shared.MaxPendingPerPartition;
        if (maxPending < 1)
        {
            problems.Add(new("MaxPendingPerPartition", string.Create(CultureInfo.InvariantCulture, $"Kafka input '{input}': must be at least 1 (was {maxPending})")));
        }

        return problems.Count > count
            ? null
            : new KafkaInputSettings<T>(
                bootstrapServers,
                groupId!,
                delivery,
                maxPending,
                shared.CommitInterval,
                shared.RevocationTimeout,
                options.Deserializer ?? DefaultSerializers.Deserializer<T>(),
                shared.CreateConsumerConfig(bootstrapServers, groupId!, options.ConsumerConfig));
    }
}
