// GroupCollector: the group collector of seed 004 (fan-out / fan-in over Kafka).
//
//   dotnet run -c Release --project samples/GroupCollector
//       starts an embedded Kafka cluster, posts the seed's three examples (success, propagated error, 10 s timeout) to
//       eventbus-collector, prints the three result events on stdout (one JSON per line) and exits.
//   dotnet run -c Release --project samples/GroupCollector -- --embedded [--topic NAME]
//       starts an embedded cluster, prints its address and runs the collector on it until Ctrl+C or SIGTERM: the
//       cluster for the kcat walkthrough of docs/group-collector.md.
//   dotnet run -c Release --project samples/GroupCollector -- --bootstrap-servers LIST [--topic NAME]
//       runs the collector against an existing cluster until Ctrl+C or SIGTERM (its topics must exist, see the doc).
//   dotnet run -c Release --project samples/GroupCollector -- --bench GROUPS [--runs R]
//       groups of three entities resolved per second on an embedded cluster, next to a relay of the same messages.
//
// Logs go to stderr. Exit codes: 0 done, 1 failed, 2 bad arguments.
using System.Text;
using Confluent.Kafka;
using GroupCollectorSample;
using Meshinery;
using Meshinery.Kafka;
using Meshinery.Kafka.GroupCollector;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string Usage = """
    usage: GroupCollector                                           the seed's three examples on an embedded cluster
           GroupCollector --embedded [--topic NAME]                 the collector as a service on an embedded cluster
           GroupCollector --bootstrap-servers LIST [--topic NAME]   the collector as a service on that cluster
           GroupCollector --bench GROUPS [--runs R]                 groups per second, next to a relay of the same messages
    """;

string? bootstrapServers = null;
var embeddedService = false;
var topic = "eventbus-collector";
int? benchGroups = null;
var benchRuns = 3;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--bootstrap-servers" when i + 1 < args.Length:
            bootstrapServers = args[++i];
            break;
        case "--topic" when i + 1 < args.Length:
            topic = args[++i];
            break;
        case "--bench" when i + 1 < args.Length && int.TryParse(args[i + 1], out var groups) && groups > 0:
            benchGroups = groups;
            i++;
            break;
        case "--runs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var runs) && runs > 0:
            benchRuns = runs;
            i++;
            break;
        case "--embedded":
            embeddedService = true;
            break;
        case "--help" or "-h":
            Console.Out.WriteLine(Usage);
            return 0;
        default:
            Console.Error.WriteLine($"error: unknown or incomplete argument '{args[i]}'");
            Console.Error.WriteLine(Usage);
            return 2;
    }
}

try
{
    if (benchGroups is { } benchmarkGroups)
    {
        return await Benchmark.RunAsync(benchmarkGroups, benchRuns);
    }

    if (bootstrapServers is not null)
    {
        await BuildHost(bootstrapServers, topic).RunAsync(); // until Ctrl+C or SIGTERM
        return 0;
    }

    await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
    var options = Collector(topic);
    foreach (var name in new[] { options.Topic, options.InternalTopicName, options.ChangelogTopicName })
    {
        await cluster.CreateTopicAsync(name, partitions: 3);
    }

    await cluster.CreateTopicAsync(options.DeadLetterTopicName, partitions: 1);
    if (embeddedService)
    {
        Console.Out.WriteLine($"bootstrap servers: {cluster.BootstrapServers}");
        Console.Out.WriteLine($"topic: {topic}");
        await BuildHost(cluster.BootstrapServers, topic).RunAsync();
        return 0;
    }

    return await RunExamplesAsync(cluster.BootstrapServers, options);
}
catch (Exception error)
{
    Console.Error.WriteLine($"fatal: {error.GetType().Name}: {error.Message}");
    return 1;
}

static GroupCollectorOptions Collector(string topic) => new() { Topic = topic };

static IHost BuildHost(string bootstrapServers, string topic)
{
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.ClearProviders();
    builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    builder.Logging.AddFilter("Meshinery.Kafka.GroupCollector", LogLevel.Information);
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddMeshinery(mesh => mesh
        .UseKafka(kafka =>
        {
            kafka.BootstrapServers = bootstrapServers;
            kafka.CommitInterval = TimeSpan.FromSeconds(1);
            // A crashed instance's partitions move after the session timeout: 6 s instead of librdkafka's 45 s.
            kafka.ConsumerConfig["session.timeout.ms"] = "6000";
            kafka.ConsumerConfig["heartbeat.interval.ms"] = "1000";
        })
        .AddGroupCollector(collector => collector.Topic = topic));
    return builder.Build();
}

static async Task<int> RunExamplesAsync(string bootstrapServers, GroupCollectorOptions options)
{
    using var host = BuildHost(bootstrapServers, options.Topic);
    await host.StartAsync();
    using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrapServers }).Build())
    {
        foreach (var message in Examples.Success.Concat(Examples.Failure).Concat(Examples.Timeout))
        {
            await producer.ProduceAsync(options.Topic, new Message<Null, string> { Value = message }); // unkeyed, as kcat -P
        }
    }

    Console.Error.WriteLine("posted the seed's three examples; waiting for their results (the timeout takes 10 s)");
    var results = await ReadResultsAsync(bootstrapServers, options.OutputTopicName, expected: 3, TimeSpan.FromSeconds(60));
    foreach (var result in results)
    {
        Console.Out.WriteLine(result);
    }

    await host.StopAsync();
    return results.Count == 3 ? 0 : 1;
}

static async Task<List<string>> ReadResultsAsync(string bootstrapServers, string topic, int expected, TimeSpan timeout)
{
    using var consumer = new ConsumerBuilder<Ignore, string>(new ConsumerConfig
    {
        BootstrapServers = bootstrapServers,
        GroupId = $"group-collector-sample-{Guid.NewGuid():N}",
        AutoOffsetReset = AutoOffsetReset.Earliest,
    }).Build();
    consumer.Subscribe(topic);
    var results = new List<string>();
    using var deadline = new CancellationTokenSource(timeout);
    await Task.Run(() =>
    {
        while (results.Count < expected && !deadline.IsCancellationRequested)
        {
            var message = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (message?.Message.Value is { } value && value.Contains("\"type\":\"EventGroupCollector", StringComparison.Ordinal)
                && (value.Contains("Success", StringComparison.Ordinal) || value.Contains("Failure", StringComparison.Ordinal)))
            {
                results.Add(value);
            }
        }
    });
    consumer.Close();
    return results;
}
