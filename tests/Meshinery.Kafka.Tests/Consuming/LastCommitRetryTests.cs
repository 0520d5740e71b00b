using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Consuming;

public class LastCommitRetryTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task StopAsync_FinalCommitAnsweredWithRetriableErrors_RetriesAndCommitsEverything()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        var (engine, input, logs, provider) = await ProcessAllAsync(cluster, "retried");
        await using var _ = provider;

        // The final commit meets two retriable answers; the third try is served.
        cluster.FailNextRequests(8 /* OffsetCommit */, ErrorCode.RequestTimedOut, ErrorCode.RebalanceInProgress);
        await engine.StopAsync().WaitAsync(Deadline);

        input.CommittedOffsets.Should().ContainKey(new TopicPartition("retried", 0)).WhoseValue.Should().Be(Messages);
        logs.Records.Should().Contain(r => r.Level == LogLevel.Information && r.Message.Contains("committed the finished offsets", StringComparison.Ordinal)
            && !r.Message.Contains("(1 attempt(s))", StringComparison.Ordinal), "the log says the commit succeeded after retrying (librdkafka may retry the timeout itself)");
        logs.Records.Should().NotContain(r => r.Message.Contains("could not commit", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StopAsync_FinalCommitAnsweredIllegalGenerationTwice_RetriesOnceThenLogsWhatWasNotCommitted()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        var (engine, _, logs, provider) = await ProcessAllAsync(cluster, "refused");
        await using var __ = provider;

        // A stale generation may be a commit that waited behind the member's own rejoin: tried once more. A second one
        // in a row means the group went on without this member.
        cluster.FailNextRequests(8 /* OffsetCommit */, ErrorCode.IllegalGeneration, ErrorCode.IllegalGeneration);
        await engine.StopAsync().WaitAsync(Deadline);

        logs.Records.Should().Contain(r => r.Level == LogLevel.Warning && r.Message.Contains("could not commit refused[0]=" + Messages, StringComparison.Ordinal)
            && r.Message.Contains("IllegalGeneration", StringComparison.Ordinal) && r.Message.Contains("(IllegalGeneration: ", StringComparison.Ordinal)
            && r.Message.Contains("2 attempt(s)", StringComparison.Ordinal),
            "a member no longer in the group stops after the second refusal, and the log names what stayed uncommitted");
    }

    [Fact]
    public async Task StopAsync_FinalCommitRefused_BacksOffOnTheEnginesClock()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        var time = new ManualTimeProvider();
        var (engine, input, logs, provider) = await ProcessAllAsync(cluster, "clocked", time);
        await using var _ = provider;

        cluster.FailNextRequests(8 /* OffsetCommit */, ErrorCode.RebalanceInProgress);
        var stop = engine.StopAsync();

        // The retry's 50 ms backoff is armed on the engine's clock, and nothing more happens until that clock moves.
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(50));
        stop.IsCompleted.Should().BeFalse("the retry waits for the engine's clock");
        input.CommittedOffsets.Should().NotContainKey(new TopicPartition("clocked", 0));
        time.Advance(TimeSpan.FromMilliseconds(50));
        await stop.WaitAsync(Deadline);

        input.CommittedOffsets.Should().ContainKey(new TopicPartition("clocked", 0)).WhoseValue.Should().Be(Messages);
        logs.Records.Should().Contain(r => r.Message.Contains("committed the finished offsets", StringComparison.Ordinal)
            && r.Message.Contains("(2 attempt(s))", StringComparison.Ordinal));
    }

    private const int Messages = 20;

    private static async Task<(MeshineryEngine Engine, KafkaInput<string> Input, RecordingLoggerProvider Logs, ServiceProvider Provider)> ProcessAllAsync(
        KafkaTestCluster cluster, string topic, TimeProvider? time = null)
    {
        await cluster.CreateTopicAsync(topic, 1);
        var logs = new RecordingLoggerProvider();
        var done = 0;
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var input = new KafkaInput<string>(topic, o => o.GroupId = topic + "-group");
        var services = new ServiceCollection();
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = cluster.BootstrapServers;
                options.CommitInterval = TimeSpan.FromHours(1); // no periodic commit: the final one commits everything
            })
            .AddTask<string>(topic, task => task
                .ReadFrom(input)
                .Do(_ =>
                {
                    if (Interlocked.Increment(ref done) == Messages)
                    {
                        allDone.TrySetResult();
                    }
                })));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < Messages; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"\"v{i}\"" });
            }
        }

        await allDone.Task.WaitAsync(Deadline);
        return (engine, input, logs, provider);
    }
}
