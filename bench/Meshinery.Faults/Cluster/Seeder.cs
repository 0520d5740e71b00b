using System.Globalization;
using Confluent.Kafka;
using Meshinery.Faults.Observation;
using Meshinery.Faults.Processes;

namespace Meshinery.Faults.Cluster;

/// <summary>One message the scenario produced: what must come out (an output, or a dead letter if it is malformed).</summary>
internal sealed record InputMessage(string Key, int Partition, long Offset, bool Malformed, TimeSpan AckedAt);

/// <summary>
/// Produces the scenario's input with a plain Confluent producer (not Meshinery): orders keyed by their id, spread over
/// the partitions round-robin, and optionally malformed messages among them, which the sample dead-letters.
/// </summary>
/// <param name="bootstrapServers">The cluster.</param>
/// <param name="topics">The run's topics; it writes the input.</param>
/// <param name="clock">The run's clock, for when each write was acknowledged.</param>
/// <param name="debug">librdkafka debug contexts for the producer, or <see langword="null"/>.</param>
/// <param name="log">Where its librdkafka log lines go when <paramref name="debug"/> is set.</param>
internal sealed class Seeder(string bootstrapServers, Topics topics, RunClock clock, string? debug = null, Action<string>? log = null) : IDisposable
{
    private readonly IProducer<string, string> _producer = ClientLogs.Route(new ProducerBuilder<string, string>(new ProducerConfig
    {
        BootstrapServers = bootstrapServers,
        ClientId = "faults-seeder",
        LingerMs = 5,
        EnableIdempotence = true,
        ReconnectBackoffMs = 10,
        ReconnectBackoffMaxMs = 100, // after an outage, the input must not wait for the seeder
        Debug = debug,
    }), "seeder", log).Build();

    private readonly List<InputMessage> _produced = [];
    private readonly Lock _gate = new();
    private int _next;

    public IReadOnlyList<InputMessage> Produced
    {
        get
        {
            lock (_gate)
            {
                return [.. _produced];
            }
        }
    }

    /// <summary>Produces <paramref name="orders"/> orders, every <paramref name="malformedEvery"/>-th of them followed by a malformed message (0: none).</summary>
    public async Task ProduceAsync(int orders, int malformedEvery = 0)
    {
        var pending = new List<Task>(orders + 16);
        for (var i = 0; i < orders; i++)
        {
            var n = Interlocked.Increment(ref _next) - 1;
            pending.Add(ProduceOneAsync(OrderKey(n), OrderJson(n), n % topics.Partitions, malformed: false));
            if (malformedEvery > 0 && i % malformedEvery == malformedEvery / 2)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"malformed-{n:D6}");
                pending.Add(ProduceOneAsync(key, $"order {n}: this is {{ not JSON", (n + 1) % topics.Partitions, malformed: true));
            }

            if (pending.Count >= 5_000)
            {
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
            }
        }

        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    public void Dispose() => _producer.Dispose();

    public static string OrderKey(int n) => string.Create(CultureInfo.InvariantCulture, $"order-{n:D6}");

    private static string OrderJson(int n) => string.Create(
        CultureInfo.InvariantCulture,
        $"{{\"id\":\"{OrderKey(n)}\",\"customer\":\"customer-{n % 97:D2}\",\"amount\":{5m + (n * 7919L % 49_500) / 100m}}}");

    private async Task ProduceOneAsync(string key, string value, int partition, bool malformed)
    {
        var result = await _producer.ProduceAsync(new TopicPartition(topics.Input, partition), new Message<string, string> { Key = key, Value = value }).ConfigureAwait(false);
        lock (_gate)
        {
            _produced.Add(new InputMessage(key, partition, result.Offset.Value, malformed, clock.Now));
        }
    }
}
