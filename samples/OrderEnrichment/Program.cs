// OrderEnrichment: Meshinery's main sample.
//
// Orders arrive on a Kafka topic (key: the order id; value: {"id": "...", "customer": "...", "amount": 12.5}). Each one
// is enriched by a blocking call to a legacy customer directory (Thread.Sleep(latency): the case Meshinery exists for)
// and an async call to a tax service (a fifth of the latency), then written to the output topic under the same key.
// A message that is not valid JSON, or not a usable order, goes to the dead-letter topic with its original bytes.
//
// A plain consume loop gets through 1 / latency = 20 orders per second per partition. Meshinery keeps up to
// --max-in-flight orders of all partitions in flight at once (on as many worker threads) and still commits offsets
// safely (at-least-once): only up to the oldest order whose output is not yet acknowledged by the broker.
//
//   ./build.sh run                                      embedded cluster, 10,000 orders, exits when done
//   ./build.sh run --seed-invalid 3 --profile           ... with three malformed messages and a time breakdown
//   dotnet run -c Release --project samples/OrderEnrichment -- --bootstrap-servers localhost:9092 --exit-when-idle 5
//
// See README.md next to this file for every option and the exact contract (summary line, exit codes).
using System.Globalization;
using Meshinery;
using Meshinery.Kafka;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OrderEnrichment;

const string TaskName = "enrich-orders";

if (!SampleSettings.TryParse(args, out var settings, out var problem))
{
    if (problem is null)
    {
        Console.Out.WriteLine(SampleSettings.Usage); // --help
        return 0;
    }

    Console.Error.WriteLine($"error: {problem}");
    Console.Error.WriteLine("Run with --help for the options.");
    return 2;
}

try
{
    return await RunAsync(settings);
}
catch (Exception error)
{
    Console.Error.WriteLine($"fatal: {error.GetType().Name}: {error.Message}");
    return 1;
}

static async Task<int> RunAsync(SampleSettings settings)
{
    var log = Console.Error;
    using var interrupted = new CancellationTokenSource();

    // Ctrl+C during the setup (before the host handles it) cancels the setup; the host takes over afterwards.
    ConsoleCancelEventHandler onCancel = (_, e) =>
    {
        e.Cancel = true;
        interrupted.Cancel();
    };
    Console.CancelKeyPress += onCancel;

    await using var cluster = KafkaSetup.OpenCluster(settings);
    log.WriteLine(cluster.IsEmbedded
        ? $"embedded Kafka cluster at {cluster.BootstrapServers}"
        : $"Kafka cluster at {cluster.BootstrapServers}");
    if (!settings.Describe && (cluster.IsEmbedded || settings.IsSeeding))
    {
        await KafkaSetup.EnsureTopicsAsync(cluster, settings, log, interrupted.Token);
    }

    if (settings.IsSeeding && !settings.Describe)
    {
        await KafkaSetup.SeedAsync(cluster.BootstrapServers, settings, log, interrupted.Token);
    }

    Console.CancelKeyPress -= onCancel;
    if (interrupted.IsCancellationRequested)
    {
        log.WriteLine("interrupted during setup");
        return 1;
    }

    log.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"enriching {settings.InputTopic} -> {settings.OutputTopic} (dead letters: {settings.DeadLetterTopic}) as group {settings.GroupId}: " +
        $"latency {settings.Latency.TotalMilliseconds:N0} ms blocking + {settings.AsyncLatency.TotalMilliseconds:N0} ms async, " +
        $"{settings.MaxInFlight} in flight on {settings.WorkerThreads ?? settings.MaxInFlight} worker threads"));

    var observations = new Observations();
    var instance = string.Create(CultureInfo.InvariantCulture, $"order-enrichment/{Environment.ProcessId}");
    var input = new KafkaInput<Order>(settings.InputTopic);
    using var profiler = settings.Profile ? new StepProfiler() : null;

    var builder = Host.CreateApplicationBuilder();
    ConfigureLogging(builder.Logging, builder.Services, settings);
    builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
    builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromMinutes(2)); // above the drain timeout
    if (settings.OtelConsole)
    {
        // Disposing the host (before the summary is printed) flushes both exporters.
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeshineryInstrumentation()
                .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 5_000))
            .WithTracing(tracing => tracing.AddMeshineryInstrumentation().AddConsoleExporter());
    }


    builder.Services.AddMeshinery(mesh => mesh
        .Configure(options =>
        {
            // A blocking step holds its worker thread for the whole call: one thread per message we want in flight.
            options.WorkerThreads = settings.WorkerThreads ?? settings.MaxInFlight;
            options.MaxInFlight = Math.Max(options.MaxInFlight, settings.MaxInFlight);
        })
        .UseKafka(kafka =>
        {
            kafka.BootstrapServers = cluster.BootstrapServers;
            kafka.GroupId = settings.GroupId;
            if (settings.CommitInterval is { } commitInterval)
            {
                kafka.CommitInterval = commitInterval;
            }

            if (settings.MaxPendingPerPartition is { } maxPending)
            {
                kafka.MaxPendingPerPartition = maxPending;
            }

            if (settings.Assignment is { } assignment)
            {
                kafka.Assignment = assignment;
            }

            if (settings.LingerMs is { } linger)
            {
                kafka.ProducerConfig["linger.ms"] = linger.ToString(CultureInfo.InvariantCulture);
            }

            // A restarted instance gets its partitions back once the group has given up on the old one.
            var session = (int)settings.SessionTimeout.TotalMilliseconds;
            kafka.ConsumerConfig["session.timeout.ms"] = session.ToString(CultureInfo.InvariantCulture);
            kafka.ConsumerConfig["heartbeat.interval.ms"] = Math.Max(100, session / 10).ToString(CultureInfo.InvariantCulture);
        })
        .AddTask<Order>(TaskName, (services, task) =>
        {
            var time = services.GetRequiredService<TimeProvider>();
            var enricher = new OrderEnricher(
                new CustomerDirectory(settings.Latency), new TaxService(settings.AsyncLatency, time), instance, observations);

            task.ReadFrom(input)
                .WithMaxInFlight(settings.MaxInFlight)
                .WithOrdering(settings.Ordering) // --ordering key: one order at a time per message key (the customer)
                // Malformed JSON (it fails in the pseudo-step "read") and invalid orders: written to the dead-letter topic
                // with the original key, value and headers plus meshinery.error.* headers, then committed like the rest.
                .DeadLetterTo(new ObservedOutput<ProcessingFailure>(new KafkaDeadLetterOutput(settings.DeadLetterTopic), observations.OnDeadLettered))
                .Process(enricher.Validate, "validate")
                .Process(enricher.LookUpCustomer, "customer-lookup")          // blocks a worker thread
                .Process(enricher.PriceAsync, "tax")                          // awaits: holds no thread
                .WriteTo(new ObservedOutput<EnrichedOrder>(
                    new KafkaOutput<EnrichedOrder>(settings.OutputTopic, output => output.Key = order => order.Id),
                    observations.OnWritten));
        }));

    TaskStatistics stats;
    double averageInFlight;
    StopReason reason;
    Exception? fatal = null;
    using (var host = builder.Build())
    {
        var engine = host.Services.GetRequiredService<MeshineryEngine>();
        if (settings.Describe)
        {
            Console.Out.Write(engine.Describe().ToMermaid()); // resolving the engine validated the tasks; nothing started
            return 0;
        }

        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        var monitor = new RunMonitor(engine, TaskName, input, observations, settings, lifetime, log);

        await host.StartAsync(); // starts the engine: the consumer joins the group, the poll loop and workers start
        using var monitorStop = new CancellationTokenSource();
        var monitoring = monitor.RunAsync(monitorStop.Token);

        // Returns once the host has stopped: the monitor stops it when the work is done, Ctrl+C / SIGTERM stop it
        // otherwise, and the engine stops it after a fatal error. Stopping drains what is in flight and commits.
        await host.WaitForShutdownAsync();
        await monitorStop.CancelAsync();
        await monitoring;

        stats = engine.GetStatistics(TaskName);
        averageInFlight = monitor.AverageInFlight;
        reason = monitor.Reason;
        if (engine.Completion.IsFaulted)
        {
            fatal = engine.Completion.Exception?.GetBaseException();
        }
    } // disposing the host flushes the console logger: the report below comes after every log line

    foreach (var line in Summary.Report(settings, stats, observations, averageInFlight, profiler))
    {
        log.WriteLine(line);
    }

    var failures = new List<string>();
    if (fatal is not null)
    {
        failures.Add($"the engine stopped on a fatal error: {fatal.GetType().Name}: {fatal.Message}");
    }

    var uncommitted = Summary.CheckCommitted(observations.LastRead, input.CommittedOffsets);
    if (uncommitted.Count > 0)
    {
        failures.Add($"not everything read was committed: {string.Join("; ", uncommitted)}");
    }
    else if (observations.LastRead.Count > 0)
    {
        log.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"committed: every offset read is committed ({observations.LastRead.Count} partition(s): {string.Join(", ", input.CommittedOffsets.OrderBy(c => c.Key.Partition.Value).Select(c => $"{c.Key.Partition.Value}={c.Value}"))})"));
    }

    if (stats.Abandoned > 0)
    {
        failures.Add(string.Create(CultureInfo.InvariantCulture, $"{stats.Abandoned} message(s) were abandoned at shutdown (they will be read again)"));
    }

    var expected = (long)settings.SeedCount + settings.SeedInvalid;
    if (settings.IsEmbedded && settings.ExitWhenIdle is null && reason != StopReason.AllSeededHandled)
    {
        failures.Add(string.Create(CultureInfo.InvariantCulture, $"interrupted: {stats.Completed + stats.Failed:N0} of {expected:N0} seeded messages handled"));
    }

    foreach (var failure in failures)
    {
        log.WriteLine($"error: {failure}");
    }

    Console.Out.WriteLine(Summary.Line(stats, observations));
    return failures.Count == 0 ? 0 : 1;
}

static void ConfigureLogging(ILoggingBuilder logging, IServiceCollection services, SampleSettings settings)
{
    // Concise: one line per entry, on stderr (stdout carries only the summary). Meshinery logs at Information
    // (partition assignments, engine start and stop, failures); everything else only from Warning. No per-message logs.
    logging.ClearProviders();
    logging.AddSimpleConsole(console =>
    {
        console.SingleLine = true;
        console.TimestampFormat = "HH:mm:ss.fff ";
    });
    services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
    logging.SetMinimumLevel(LogLevel.Warning);
    logging.AddFilter("Meshinery", settings.Verbose ? LogLevel.Debug : LogLevel.Information);
}
