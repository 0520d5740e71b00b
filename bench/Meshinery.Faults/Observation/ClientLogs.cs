using Confluent.Kafka;

namespace Meshinery.Faults.Observation;

/// <summary>Sends a tool client's librdkafka log lines into the scenario's log (when asked for), instead of stderr.</summary>
internal static class ClientLogs
{
    public static ProducerBuilder<TKey, TValue> Route<TKey, TValue>(ProducerBuilder<TKey, TValue> builder, string name, Action<string>? log) =>
        log is null ? builder : builder.SetLogHandler((_, m) => log($"{name} librdkafka {m.Facility}: {m.Message}"));

    public static ConsumerBuilder<TKey, TValue> Route<TKey, TValue>(ConsumerBuilder<TKey, TValue> builder, string name, Action<string>? log) =>
        log is null ? builder : builder.SetLogHandler((_, m) => log($"{name} librdkafka {m.Facility}: {m.Message}"));
}
