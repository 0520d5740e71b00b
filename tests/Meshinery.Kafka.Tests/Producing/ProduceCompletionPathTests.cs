using System.Globalization;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka.Tests.Producing;

/// <summary>
/// A write completes through Confluent's delivery handler (a pooled completion, not <c>ProduceAsync</c>'s task): a
/// delivery the broker refuses still takes the run's error path with the broker's reason, a write still waiting when the
/// engine gives up on its runs ends at once, and the writes after either still complete with their own outcome.
/// </summary>
public class ProduceCompletionPathTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Write_BrokerRefusesTheMessage_RunFailsWithTheDeliveryErrorAndLaterWritesComplete()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("refused", 1);
        var (engine, provider) = await StartAsync(cluster, "refused", messageTimeoutMs: 30_000);
        await using var _ = provider;

        (await engine.InjectAsync("write", "warm-up").AsTask().WaitAsync(Deadline)).Outcome.Should().Be(RunOutcome.Completed);

        cluster.FailNextRequests(0 /* Produce */, ErrorCode.MsgSizeTooLarge);
        var refused = await engine.InjectAsync("write", "too-large").AsTask().WaitAsync(Deadline);

        refused.Outcome.Should().Be(RunOutcome.Failed);
        var error = refused.Failure!.Exception.Should().BeAssignableTo<ProduceException<byte[]?, byte[]?>>().Subject;
        error.Error.Code.Should().Be(ErrorCode.MsgSizeTooLarge, "the failure carries the broker's reason");
        refused.Failure.StepName.Should().Be("write-refused", "the write to the output failed");

        // The completions are reused: every later write completes with its own delivery.
        var later = Enumerable.Range(0, 50)
            .Select(i => engine.InjectAsync("write", i.ToString(CultureInfo.InvariantCulture)).AsTask())
            .ToList();
        var results = await Task.WhenAll(later).WaitAsync(Deadline);
        results.Should().OnlyContain(r => r.Outcome == RunOutcome.Completed);
        engine.GetStatistics("write").Completed.Should().Be(51);

        await engine.StopAsync().WaitAsync(Deadline);
    }

    [Fact]
    public async Task Write_WaitingForAnUnreachableLeaderWhenTheRunsAreCancelled_EndsAtOnceAsAbandoned()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await cluster.CreateTopicAsync("stalled", 1);
        int leader;
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            leader = admin.GetMetadata("stalled", TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single().Leader;
        }

        // The message would wait up to 10 minutes for its broker; the stop cancels the runs at once (no drain) and then
        // waits up to 2 minutes for them. Only the write's own cancellation ends the run before both.
        var (engine, provider) = await StartAsync(cluster, "stalled", messageTimeoutMs: 600_000, drainTimeout: TimeSpan.Zero);
        await using var _ = provider;
        (await engine.InjectAsync("write", "warm-up").AsTask().WaitAsync(Deadline)).Outcome.Should().Be(RunOutcome.Completed);

        cluster.SetBrokerDown(leader);
        var stalled = engine.InjectAsync("write", "stalled").AsTask();
        (await Eventually.HoldsAsync(() => engine.InFlight == 1, Deadline)).Should().BeTrue();
        stalled.IsCompleted.Should().BeFalse("the write waits for its broker");

        var stop = engine.StopAsync();

        var result = await stalled.WaitAsync(Deadline);
        result.Outcome.Should().Be(RunOutcome.Abandoned);
        engine.InFlight.Should().Be(0);
        cluster.SetBrokerUp(leader); // lets the output's flush at stop deliver the message
        await stop.WaitAsync(Deadline);
    }

    private static async Task<(MeshineryEngine Engine, ServiceProvider Provider)> StartAsync(
        KafkaTestCluster cluster, string topic, int messageTimeoutMs, TimeSpan? drainTimeout = null)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = cluster.BootstrapServers;
                options.ProducerConfig["message.timeout.ms"] = messageTimeoutMs.ToString(CultureInfo.InvariantCulture);
            })
            .Configure(options =>
            {
                options.DrainTimeout = drainTimeout ?? options.DrainTimeout;
                options.CancellationGracePeriod = TimeSpan.FromMinutes(2);
            })
            .AddTask<string>("write", task => task
                .ReadFrom(new InMemoryInput<string>())
                .WriteTo(new KafkaOutput<string>(topic, o => o.Key = s => s))));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();
        return (engine, provider);
    }
}
