using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Support;

/// <summary>An engine with Kafka configured for the fixture's cluster, started and stopped by the test.</summary>
public sealed class TestEngine : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private TestEngine(ServiceProvider services)
    {
        _services = services;
        Engine = services.GetRequiredService<MeshineryEngine>();
    }

    public MeshineryEngine Engine { get; }

    public static async Task<TestEngine> StartAsync(KafkaFixture kafka, Action<MeshineryBuilder> configure, Action<KafkaOptions>? kafkaOptions = null)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddMeshinery(mesh =>
        {
            mesh.UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.CommitInterval = TimeSpan.FromMilliseconds(200);
                options.ConsumerConfig["session.timeout.ms"] = "6000";
                options.ConsumerConfig["heartbeat.interval.ms"] = "500";
                options.ConsumerConfig["max.poll.interval.ms"] = "10000";
                kafkaOptions?.Invoke(options);
            });
            configure(mesh);
        });
        var provider = services.BuildServiceProvider();
        var engine = new TestEngine(provider);
        await engine.Engine.StartAsync();
        return engine;
    }

    public Task StopAsync() => Engine.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await Engine.StopAsync();
        await _services.DisposeAsync();
    }
}
