using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.Kafka.GroupCollector.Tests.Support;

/// <summary>One collector instance: an engine with the collector's tasks, started and stopped by the test.</summary>
public sealed class CollectorEngine : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private CollectorEngine(ServiceProvider services, FakeLoggerProvider logs)
    {
        _services = services;
        Logs = logs;
        Engine = services.GetRequiredService<MeshineryEngine>();
    }

    public MeshineryEngine Engine { get; }

    /// <summary>Everything the collector logged (Information and above), with scopes.</summary>
    public FakeLoggerProvider Logs { get; }

    public static async Task<CollectorEngine> StartAsync(CollectorKafka kafka, GroupCollectorOptions options, TimeProvider? clock = null)
    {
        var logs = new FakeLoggerProvider();
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
                kafkaOptions.ConsumerConfig["session.timeout.ms"] = "6000";
                kafkaOptions.ConsumerConfig["heartbeat.interval.ms"] = "500";
                kafkaOptions.ConsumerConfig["max.poll.interval.ms"] = "10000";
            })
            .AddGroupCollector(collector => Copy(options, collector)));
        var provider = services.BuildServiceProvider();
        var engine = new CollectorEngine(provider, logs);
        await engine.Engine.StartAsync();
        return engine;
    }

    public Task StopAsync() => Engine.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync();
        await _services.DisposeAsync();
        Logs.Dispose();
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
