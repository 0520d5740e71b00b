using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.Kafka.GroupCollector.Tests.Support;

/// <summary>One collector instance: an engine with the collector's tasks, started and stopped by the test.</summary>
public sealed class CollectorEngine : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly SemaphoreSlim _logged;

    private CollectorEngine(ServiceProvider services, FakeLoggerProvider logs, SemaphoreSlim logged)
    {
        _services = services;
        Logs = logs;
        _logged = logged;
        Engine = services.GetRequiredService<MeshineryEngine>();
    }

    public MeshineryEngine Engine { get; }

    /// <summary>Everything the collector logged (Information and above), with scopes.</summary>
    public FakeLoggerProvider Logs { get; }

    /// <summary>Starts an instance; <paramref name="assignment"/> is <see cref="KafkaOptions.Assignment"/> (default: the library's).</summary>
    public static async Task<CollectorEngine> StartAsync(
        CollectorKafka kafka, GroupCollectorOptions options, TimeProvider? clock = null, PartitionAssignment? assignment = null)
    {
        var logged = new SemaphoreSlim(0);
        var logs = new FakeLoggerProvider(FakeLogCollector.Create(new FakeLogCollectorOptions { OutputSink = _ => Signal(logged) }));
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Information).AddProvider(logs));
        if (clock is not null)
        {
            services.AddSingleton(clock);
        }

        services.AddMeshinery(mesh => mesh
            .UseKafka(kafkaOptions =>
            {
                kafkaOptions.BootstrapServers = kafka.BootstrapServers;
                kafkaOptions.CommitInterval = TimeSpan.FromMilliseconds(200);
                kafkaOptions.Assignment = assignment;
                kafkaOptions.ConsumerConfig["session.timeout.ms"] = "6000";
                kafkaOptions.ConsumerConfig["heartbeat.interval.ms"] = "500";
                kafkaOptions.ConsumerConfig["max.poll.interval.ms"] = "10000";
            })
            .AddGroupCollector(collector => Copy(options, collector)));
        var provider = services.BuildServiceProvider();
        var engine = new CollectorEngine(provider, logs, logged);
        await engine.Engine.StartAsync();
        return engine;
    }

    public Task StopAsync() => Engine.StopAsync();

    /// <summary>The log records with event id <paramref name="eventId"/> so far.</summary>
    public int Logged(int eventId) => Logs.Collector.GetSnapshot().Count(r => r.Id.Id == eventId);

    /// <summary>Waits (on each new log record, up to 60 s) until <paramref name="condition"/> holds.</summary>
    public async Task WaitForLogsAsync(Func<CollectorEngine, bool> condition, string what)
    {
        var until = Environment.TickCount64 + 60_000;
        while (!condition(this))
        {
            var left = until - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"Timed out after 60 s waiting for {what}; logged:{Environment.NewLine}{string.Join(Environment.NewLine, Logs.Collector.GetSnapshot().Select(r => r.Message))}");
            }

            await _logged.WaitAsync(TimeSpan.FromMilliseconds(Math.Min(left, 1000))); // rechecked: the condition may read another instance's logs
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync();
        await _services.DisposeAsync();
        Logs.Dispose();
        _logged.Dispose();
    }

    private static void Signal(SemaphoreSlim logged)
    {
        try
        {
            logged.Release();
        }
        catch (ObjectDisposedException)
        {
            // A client thread logging after the instance was disposed: nobody waits any more.
        }
    }

    private static void Copy(GroupCollectorOptions from, GroupCollectorOptions to)
    {
        to.Topic = from.Topic;
        to.GroupId = from.GroupId;
        to.OutputTopic = from.OutputTopic;
        to.InternalTopic = from.InternalTopic;
        to.ChangelogTopic = from.ChangelogTopic;
        to.DeadLetterTopic = from.DeadLetterTopic;
        to.DefaultTtl = from.DefaultTtl;
        to.OrphanWait = from.OrphanWait;
        to.ResolvedRetention = from.ResolvedRetention;
        to.MaxOpenGroups = from.MaxOpenGroups;
    }
}
