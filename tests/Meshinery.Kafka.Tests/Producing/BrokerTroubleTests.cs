using System.Globalization;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Producing;

public class BrokerTroubleTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Write_LeaderBrokerDownMidRun_WritesWaitAndAllArriveOnceItIsBack()
    {
        // A cluster of its own: this test takes a broker down.
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 3 });
        await cluster.CreateTopicAsync("out", 1);
        int leader;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            leader = admin.GetMetadata("out", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single().Leader;
        }

        var input = new InMemoryInput<string>();
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = cluster.BootstrapServers;
                options.ProducerConfig["message.timeout.ms"] = "60000";
            })
            .AddTask<string>("outage", task => task.ReadFrom(input).WriteTo(new KafkaOutput<string>("out", o => o.Key = s => s))));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();

        input.TryWrite("before").Should().BeTrue();
        (await Eventually.HoldsAsync(() => input.Completed == 1, Deadline)).Should().BeTrue();

        cluster.SetBrokerDown(leader);
        for (var i = 0; i < 20; i++)
        {
            input.TryWrite(i.ToString(CultureInfo.InvariantCulture)).Should().BeTrue();
        }

        (await Eventually.HoldsAsync(() => engine.InFlight == 20, Deadline)).Should().BeTrue("the writes wait for the leader");
        input.Completed.Should().Be(1, "no item is acknowledged while its output is not durable");

        cluster.SetBrokerUp(leader);
        input.Complete();
        await input.AllAcknowledged.WaitAsync(Deadline);
        input.Completed.Should().Be(21);
        input.Failed.Should().Be(0);
        await engine.StopAsync();

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Assign(new TopicPartitionOffset("out", 0, Offset.Beginning));
        var keys = new HashSet<string>();
        var until = DateTime.UtcNow + Deadline;
        while (keys.Count < 21 && DateTime.UtcNow < until)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } result)
            {
                keys.Add(result.Message.Key);
            }
        }

        keys.Should().HaveCount(21, "every item written during the outage arrives once the broker is back");
    }

    [Fact]
    public async Task Start_BrokersUnreachable_LogsClearlyAndKeepsRunningUntilStopped()
    {
        var logs = new RecordingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(logs));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = "127.0.0.1:1") // nothing listens on port 1
            .AddTask<string>("unreachable", task => task.ReadFrom(new KafkaInput<string>("orders", o => o.GroupId = "g"))));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();

        await engine.StartAsync();
        await logs.WaitForAsync((level, message) => level == LogLevel.Warning && message.Contains("127.0.0.1:1", StringComparison.Ordinal))
            .WaitAsync(Deadline);

        engine.Completion.IsCompleted.Should().BeFalse("an unreachable broker is not fatal: the client keeps retrying");
        await engine.StopAsync().WaitAsync(Deadline);
        logs.Records.Should().NotContain(r => r.Level == LogLevel.Critical);
    }
}
