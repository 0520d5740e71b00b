namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The collector's inputs keep the eager group protocol (librdkafka's <c>range,roundrobin</c>) that it was built and
/// tested with, where a rebalance revokes every partition before any is assigned: its per-partition state restore and
/// hand-over are proven only under that protocol. Under the library's default, cooperative-sticky, its Kafka tests
/// stalled (not analysed yet). A typed <see cref="KafkaOptions.Assignment"/> still wins over this setting.
/// </summary>
internal static class CollectorProtocol
{
    public static void Apply<T>(KafkaInputOptions<T> options) =>
        options.ConsumerConfig.TryAdd("partition.assignment.strategy", "range,roundrobin");
}
