using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Consuming;

public class KafkaFatalErrorTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Consume_BrokerFencesTheGroupMember_FatalErrorStopsTheEngineWithAClearError()
    {
        // A cluster of its own: the injected error answers whichever client sends the next heartbeat.
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("fenced", 1);
        var logs = new RecordingLoggerProvider();
        var processed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = cluster.BootstrapServers;
                options.ConsumerConfig["heartbeat.interval.ms"] = "100";
            })
            .AddTask<string>("fenced", task => task
                .ReadFrom(new KafkaInput<string>("fenced", o => o.GroupId = "fenced-group"))
                .Do(_ => processed.TrySetResult())));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            await producer.ProduceAsync("fenced", new Message<string, string> { Key = "k", Value = "\"v\"" });
        }

        await processed.Task.WaitAsync(Deadline); // the consumer has joined the group and heartbeats
        engine.Completion.IsCompleted.Should().BeFalse();

        // What a static member replaced by another instance with the same group.instance.id receives.
        cluster.FailNextRequests(12 /* Heartbeat */, ErrorCode.FencedInstanceId);

        var completion = () => engine.Completion.WaitAsync(Deadline);
        var error = (await completion.Should().ThrowAsync<KafkaException>()).Which.Error;
        error.IsFatal.Should().BeTrue();
        logs.Records.Should().Contain(r => r.Level == LogLevel.Critical && r.Message.Contains("fatal error", StringComparison.Ordinal),
            "the fatal error is logged with the client's reason before the engine stops");
        await engine.StopAsync().WaitAsync(Deadline); // stopping a stopped engine is harmless
    }
}
