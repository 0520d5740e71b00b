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

    [Theory]
    [InlineData(null)] // the default protocol, cooperative-sticky: an exception leaving the rebalance handler left the assignment open and the stop hung
    [InlineData("range")]
    public async Task PartitionsAssignedCallback_Throws_EngineStopsWithThatErrorAndItsStopReturns(string? strategy)
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("callback-throws", 2);
        var logs = new RecordingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = cluster.BootstrapServers)
            .AddTask<string>("callback-throws", task => task
                .ReadFrom(new KafkaInput<string>("callback-throws", o =>
                {
                    o.GroupId = "callback-group";
                    if (strategy is not null)
                    {
                        o.ConsumerConfig["partition.assignment.strategy"] = strategy;
                    }

                    o.PartitionsAssigned = _ => throw new InvalidOperationException("state store unavailable");
                }))
                .Do(_ => { })));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();

        var completion = () => engine.Completion.WaitAsync(Deadline);
        await completion.Should().ThrowAsync<InvalidOperationException>().WithMessage("state store unavailable");
        logs.Records.Should().Contain(r => r.Level == LogLevel.Critical && r.Message.Contains("PartitionsAssigned callback threw", StringComparison.Ordinal));

        await engine.StopAsync().WaitAsync(Deadline); // the consumer leaves the group and closes
        await provider.DisposeAsync().AsTask().WaitAsync(Deadline);
    }
}
