using Confluent.Kafka;
using Meshinery.Testing;
// An idempotent (or not) plain producer, 10,000 messages over 8 partitions; after 3,000 acknowledgements the mock
// answers the next 15 produce requests with retriable errors. Counts acknowledged vs. in the log.
foreach (var idempotent in new[] { true, false })
{
    using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
    await cluster.CreateTopicAsync("t", 8);
    using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 1, EnableIdempotence = idempotent }).Build();
    var acked = 0; var failed = 0; var pending = new List<Task>();
    for (var i = 0; i < 10_000; i++)
    {
        if (i == 3_000) { await Task.WhenAll(pending); cluster.FailNextRequests(0, [.. Enumerable.Range(0, 5).SelectMany(_ => new[] { ErrorCode.NotEnoughReplicas, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut })]); }
        pending.Add(producer.ProduceAsync(new TopicPartition("t", i % 8), new Message<string, string> { Key = i.ToString(), Value = "v" })
            .ContinueWith(t => { if (t.IsCompletedSuccessfully) Interlocked.Increment(ref acked); else Interlocked.Increment(ref failed); }));
        if (i % 100 == 99) await Task.Delay(5); // a stream, not one burst, like the sample's outputs
    }
    await Task.WhenAll(pending);
    using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "w" }).Build();
    long inLog = 0;
    for (var p = 0; p < 8; p++) inLog += consumer.QueryWatermarkOffsets(new TopicPartition("t", p), TimeSpan.FromSeconds(10)).High.Value;
    Console.WriteLine($"idempotence={idempotent}: acknowledged {acked}, failed {failed}, in the log {inLog}");
}
