using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Meshinery;
using Meshinery.Kafka;
using Meshinery.Kafka.GroupCollector;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace GroupCollectorSample;

/// <summary>
/// <c>--bench GROUPS [--runs R]</c>: groups of three entities resolved per second on a fresh embedded cluster, side by
/// side with a relay (one Kafka input, one Kafka output, no work) moving the same messages (a create and three dones
/// per group), so that the ratio says what the collector's repartition, changelog and result writes cost. Each run
/// writes its backlog first (unkeyed, over 3 partitions), then starts the engine and times until the last output is
/// read. The runs alternate relay and collector; after each collector run a new instance restores the changelog the run
/// wrote (the restore of its three partitions timed, not the wait for its consumer group). The medians and their ratio are printed last.
/// </summary>
internal static class Benchmark
{
    private const int Partitions = 3;

    public static async Task<int> RunAsync(int groups, int runs)
    {
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
        var relay = new List<double>();
        var collector = new List<double>();
        var restore = new List<double>();
        for (var run = 1; run <= runs; run++)
        {
            var relayPerSecond = await RelayAsync(cluster, groups, run);
            relay.Add(relayPerSecond);
            var (collectorPerSecond, options) = await CollectorAsync(cluster, groups, run);
            collector.Add(collectorPerSecond);
            var (records, seconds) = await RestoreAsync(cluster.BootstrapServers, options);
            restore.Add(records / seconds);
            Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"run={run} groups={groups} relay_groups_per_s={relayPerSecond:F1} collector_groups_per_s={collectorPerSecond:F1} restore_records={records} restore_s={seconds:F2} restore_records_per_s={records / seconds:F0}"));
        }

        var relayMedian = Median(relay);
        var collectorMedian = Median(collector);
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median groups={groups} runs={runs} relay_groups_per_s={relayMedian:F1} collector_groups_per_s={collectorMedian:F1} collector_to_relay={collectorMedian / relayMedian:F3} restore_records_per_s={Median(restore):F0}"));
        return 0;
    }

    private static async Task<double> RelayAsync(KafkaTestCluster cluster, int groups, int run)
    {
        var input = $"bench-relay-in-{run}";
        var output = $"bench-relay-out-{run}";
        await cluster.CreateTopicAsync(input, Partitions);
        await cluster.CreateTopicAsync(output, Partitions);
        await ProduceBacklogAsync(cluster.BootstrapServers, input, groups, run);
        return await TimeAsync(cluster.BootstrapServers, groups, output, expected: groups * 4, isOutput: _ => true, mesh => mesh
            .AddTask<byte[]>("relay", task => task
                .ReadFrom(new KafkaInput<byte[]>(input, o => o.GroupId = $"bench-relay-{run}"))
                .WithMaxInFlight(1_000)
                .WriteTo(new KafkaOutput<byte[]>(output))));
    }

    private static async Task<(double GroupsPerSecond, GroupCollectorOptions Options)> CollectorAsync(KafkaTestCluster cluster, int groups, int run)
    {
        var options = new GroupCollectorOptions { Topic = $"bench-collector-{run}", GroupId = $"bench-collector-{run}" };
        foreach (var topic in new[] { options.Topic, options.InternalTopicName, options.ChangelogTopicName })
        {
            await cluster.CreateTopicAsync(topic, Partitions);
        }

        await cluster.CreateTopicAsync(options.DeadLetterTopicName, 1);
        await ProduceBacklogAsync(cluster.BootstrapServers, options.Topic, groups, run);
        var perSecond = await TimeAsync(cluster.BootstrapServers, groups, options.OutputTopicName, expected: groups, IsResult, mesh => mesh
            .AddGroupCollector(collector =>
            {
                collector.Topic = options.Topic;
                collector.GroupId = options.GroupId;
            }));
        return (perSecond, options);
    }

    /// <summary>
    /// Starts a new instance on the collector's topics and sums the time its 3 changelog partitions took to restore
    /// (<c>changelog.restore_duration</c>; the embedded cluster does not compact, so it reads every record the run
    /// wrote). The wait for the consumer group to form is not part of it. Returns the records read and the seconds.
    /// </summary>
    private static async Task<(long Records, double Seconds)> RestoreAsync(string bootstrapServers, GroupCollectorOptions options)
    {
        long records = 0;
        var seconds = 0.0;
        var restored = 0;
        var gate = new Lock();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == GroupCollectorBuilderExtensions.MeterName && instrument.Name.StartsWith("meshinery.group_collector.changelog.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref records, value));
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (gate)
            {
                seconds += value;
                if (++restored == Partitions)
                {
                    done.TrySetResult();
                }
            }
        });
        listener.Start();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        services.AddMeshinery(mesh => mesh
            .UseKafka(kafka => Configure(kafka, bootstrapServers))
            .AddGroupCollector(collector =>
            {
                collector.Topic = options.Topic;
                collector.GroupId = options.GroupId;
            }));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();
        await done.Task.WaitAsync(TimeSpan.FromMinutes(10));
        await engine.StopAsync();
        lock (gate)
        {
            return (Interlocked.Read(ref records), seconds);
        }
    }

    private static bool IsResult(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value);
        return text.StartsWith("{\"type\":\"EventGroupCollectorSuccess\"", StringComparison.Ordinal);
    }

    /// <summary>Starts an engine with the task(s), and returns groups per second until <paramref name="expected"/> outputs were read.</summary>
    private static async Task<double> TimeAsync(string bootstrapServers, int groups, string output, int expected, Func<byte[], bool> isOutput, Action<MeshineryBuilder> tasks)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddConsole(c => c.LogToStandardErrorThreshold = LogLevel.Trace).SetMinimumLevel(LogLevel.Warning));
        services.AddMeshinery(mesh =>
        {
            mesh.UseKafka(kafka => Configure(kafka, bootstrapServers)).Configure(o => o.WorkerThreads = 8);
            tasks(mesh);
        });
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = $"bench-reader-{Guid.NewGuid():N}",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(output);
        var started = Stopwatch.GetTimestamp();
        await engine.StartAsync();
        var seen = 0;
        var deadline = TimeSpan.FromMinutes(10);
        await Task.Run(() =>
        {
            while (seen < expected && Stopwatch.GetElapsedTime(started) < deadline)
            {
                if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { Message.Value: { } value } && isOutput(value))
                {
                    seen++;
                }
            }
        });
        var elapsed = Stopwatch.GetElapsedTime(started);
        await engine.StopAsync();
        consumer.Close();
        if (seen < expected)
        {
            throw new TimeoutException($"Only {seen} of {expected} outputs on {output} within {deadline}.");
        }

        return groups / elapsed.TotalSeconds;
    }

    private static async Task ProduceBacklogAsync(string bootstrapServers, string topic, int groups, int run)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 5 }).Build();
        var pending = new List<Task>(groups * 4);
        var message = 0;
        for (var g = 0; g < groups; g++)
        {
            var group = string.Create(CultureInfo.InvariantCulture, $"bench-{run}-{g}");
            string[] events =
            [
                $$$"""{"id":"{{{group}}}","type":"EventGroupCollectorCreate","expected":["a","b","c"],"ttl":600,"payload":{"n":{{{g}}}}}""",
                $$$"""{"id":"a","type":"EventGroupCollectorEntityDone","group":"{{{group}}}","result":{"job":"a"}}""",
                $$$"""{"id":"b","type":"EventGroupCollectorEntityDone","group":"{{{group}}}","result":{"job":"b"}}""",
                $$$"""{"id":"c","type":"EventGroupCollectorEntityDone","group":"{{{group}}}","result":{"job":"c"}}""",
            ];
            foreach (var value in events)
            {
                pending.Add(producer.ProduceAsync(new TopicPartition(topic, message++ % Partitions), new Message<Null, string> { Value = value }));
            }
        }

        await Task.WhenAll(pending);
    }

    /// <summary>A 6 s session timeout: the restoring instance's consumer group forms without waiting 45 s for the last run's members.</summary>
    private static void Configure(KafkaOptions kafka, string bootstrapServers)
    {
        kafka.BootstrapServers = bootstrapServers;
        kafka.ConsumerConfig["session.timeout.ms"] = "6000";
        kafka.ConsumerConfig["heartbeat.interval.ms"] = "1000";
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
