using System.Diagnostics;
using Confluent.Kafka;
using Meshinery.Testing;
using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
await cluster.CreateTopicAsync("t", 1);
var variants = new Dictionary<string, Dictionary<string, string>>
{
    ["idempotent (library default)"] = new() { ["enable.idempotence"] = "true" },
    ["not idempotent"] = new() { ["enable.idempotence"] = "false" },
    ["idempotent, reconnect.backoff.max.ms=100"] = new() { ["enable.idempotence"] = "true", ["reconnect.backoff.max.ms"] = "100" },
    ["not idempotent, reconnect.backoff.max.ms=100"] = new() { ["enable.idempotence"] = "false", ["reconnect.backoff.max.ms"] = "100" },
    ["idempotent, reconnect.backoff.max.ms=100, socket.timeout.ms=2000"] = new() { ["enable.idempotence"] = "true", ["reconnect.backoff.max.ms"] = "100", ["socket.timeout.ms"] = "2000" },
    ["idempotent, reconnect.backoff.max.ms=100, topic.metadata.refresh.interval.ms=1000"] = new() { ["enable.idempotence"] = "true", ["reconnect.backoff.max.ms"] = "100", ["topic.metadata.refresh.interval.ms"] = "1000" },
};
var producers = variants.ToDictionary(v => v.Key, v =>
{
    var config = new ProducerConfig(v.Value) { BootstrapServers = cluster.BootstrapServers, LingerMs = 1 };
    return new ProducerBuilder<string, string>(config).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
});
foreach (var p in producers.Values) await p.ProduceAsync("t", new Message<string, string> { Key = "k", Value = "before" });
cluster.SetBrokerDown(1);
var mode = args.Length > 0 ? args[0] : "idle";
var during = new List<Task>();
if (mode == "busy") foreach (var p in producers.Values) during.Add(p.ProduceAsync("t", new Message<string, string> { Key = "k", Value = "during" }));
await Task.Delay(10_000);
cluster.SetBrokerUp(1);
var up = Stopwatch.StartNew();
var results = await Task.WhenAll(producers.Select(async p =>
{
    await p.Value.ProduceAsync("t", new Message<string, string> { Key = "k", Value = "after" });
    return (p.Key, up.Elapsed.TotalSeconds);
}));
foreach (var (name, s) in results) Console.WriteLine($"{mode}: {name}: first produce after the broker came back acknowledged in {s:F2} s");
foreach (var p in producers.Values) p.Dispose();
