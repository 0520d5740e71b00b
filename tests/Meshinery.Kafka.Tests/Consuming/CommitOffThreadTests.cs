using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Consuming;

/// <summary>The periodic commits are made beside the consume thread: a commit that hangs or fails never stops the reading.</summary>
public class CommitOffThreadTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task PeriodicCommit_FinishedOffsets_CommittedOnTheCommitThreadNotTheConsumeThread()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await using var app = await App.StartAsync(cluster, "off-thread", coordinator: null);
        var threads = new List<string?>();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Input.Committed += (_, offsets) =>
        {
            lock (threads)
            {
                threads.Add(Thread.CurrentThread.Name);
            }

            if (offsets.Any(o => o.Offset.Value == 10))
            {
                reached.TrySetResult();
            }
        };

        await app.ProduceAndWaitAsync(10);
        await reached.Task.WaitAsync(Deadline);

        lock (threads)
        {
            threads.Should().NotBeEmpty().And.OnlyContain(
                name => name == "meshinery-kafka-commit-off-thread", "the periodic commits are made on the input's commit thread, never on its consume thread");
        }

        await app.Engine.StopAsync().WaitAsync(Deadline);
        app.Input.CommittedOffsets[new TopicPartition("off-thread", 0)].Should().Be(10);
    }

    [Fact]
    public async Task PeriodicCommit_CoordinatorUnreachable_ReadingGoesOnAndTheCommitsCatchUpWhenItReturns()
    {
        // Two brokers: the partition's leader stays up, the group's coordinator goes down, so commits hang while fetches work.
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 2 });
        await using var app = await App.StartAsync(cluster, "hanging", coordinator: 2);
        var partition = new TopicPartition("hanging", 0);

        await app.ProduceAndWaitAsync(5);
        (await Eventually.HoldsAsync(() => app.Input.CommittedOffsets.GetValueOrDefault(partition) == 5, Deadline)).Should().BeTrue();

        cluster.SetBrokerDown(2);

        // One at a time, each only after the one before was processed: a commit the consume thread waited for would stop
        // every later message from being read.
        for (var i = 0; i < 10; i++)
        {
            await app.ProduceAndWaitAsync(1, within: TimeSpan.FromSeconds(15));
        }

        app.Input.CommittedOffsets[partition].Should().Be(5, "no commit completes while the coordinator is down: the reading went on while they hung");
        app.Logs.Records.Should().NotContain(r => r.Level >= LogLevel.Error && r.Message.Contains("commit thread", StringComparison.Ordinal));

        cluster.SetBrokerUp(2);
        (await Eventually.HoldsAsync(() => app.Input.CommittedOffsets.GetValueOrDefault(partition) == 15, Deadline))
            .Should().BeTrue("the next commit after the coordinator's return carries the newest finished offset");
        await app.Engine.StopAsync().WaitAsync(Deadline);
        app.Input.CommittedOffsets[partition].Should().Be(15);
    }

    [Fact]
    public async Task PeriodicCommit_CommitsAnsweredWithErrors_ReadingGoesOnAndEverythingIsCommittedAtTheEnd()
    {
        await using var cluster = KafkaTestCluster.StartEmbedded();
        await using var app = await App.StartAsync(cluster, "erring", coordinator: null);
        var partition = new TopicPartition("erring", 0);
        await app.ProduceAndWaitAsync(5);
        (await Eventually.HoldsAsync(() => app.Input.CommittedOffsets.GetValueOrDefault(partition) == 5, Deadline)).Should().BeTrue();

        // The fault tool's commit-errors mix: librdkafka retries the coordinator errors and the timeout inside a commit.
        cluster.FailNextRequests(
            8 /* OffsetCommit */, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut, ErrorCode.RebalanceInProgress,
            ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut, ErrorCode.RebalanceInProgress);
        for (var i = 0; i < 10; i++)
        {
            await app.ProduceAndWaitAsync(1);
        }

        await app.Engine.StopAsync().WaitAsync(Deadline);
        app.Input.CommittedOffsets[partition].Should().Be(15, "the commits after the errors, or the stop's last commit, commit everything finished");
        app.Logs.Records.Should().NotContain(r => r.Message.Contains("could not commit", StringComparison.Ordinal));
    }

    /// <summary>An engine reading one partition with a 50 ms commit interval, counting the runs that ended.</summary>
    /// <remarks>A wait of 15 s per message is generous for reading that goes on, and short of a commit that hangs.</remarks>
    private sealed class App : IAsyncDisposable
    {
        private readonly IProducer<string, string> _producer;
        private readonly ServiceProvider _provider;
        private readonly string _topic;
        private int _done;
        private int _produced;

        private App(string topic, KafkaInput<string> input, RecordingLoggerProvider logs, ServiceProvider provider, IProducer<string, string> producer)
        {
            _topic = topic;
            Input = input;
            Logs = logs;
            _provider = provider;
            _producer = producer;
            Engine = provider.GetRequiredService<MeshineryEngine>();
        }

        public KafkaInput<string> Input { get; }

        public RecordingLoggerProvider Logs { get; }

        public MeshineryEngine Engine { get; }

        public static async Task<App> StartAsync(EmbeddedKafkaCluster cluster, string topic, int? coordinator)
        {
            await cluster.CreateTopicAsync(topic, 1);
            var group = topic + "-group";
            if (coordinator is { } broker)
            {
                cluster.SetPartitionLeader(topic, 0, 1);
                cluster.SetGroupCoordinator(group, broker);
            }

            var logs = new RecordingLoggerProvider();
            var input = new KafkaInput<string>(topic, o => o.GroupId = group);
            App? app = null;
            var services = new ServiceCollection();
            services.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
            services.AddMeshinery(mesh => mesh
                .UseKafka(options =>
                {
                    options.BootstrapServers = cluster.BootstrapServers;
                    options.CommitInterval = TimeSpan.FromMilliseconds(50);
                })
                .AddTask<string>(topic, task => task.ReadFrom(input).Do(_ => Interlocked.Increment(ref app!._done))));
            var provider = services.BuildServiceProvider();
            var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build();
            app = new App(topic, input, logs, provider, producer);
            await app.Engine.StartAsync();
            return app;
        }

        /// <summary>Produces <paramref name="count"/> messages and waits until their runs have ended.</summary>
        public async Task ProduceAndWaitAsync(int count, TimeSpan? within = null)
        {
            for (var i = 0; i < count; i++)
            {
                await _producer.ProduceAsync(_topic, new Message<string, string> { Key = "k", Value = $"\"v{_produced++}\"" });
            }

            (await Eventually.HoldsAsync(() => Volatile.Read(ref _done) >= _produced, within ?? Deadline))
                .Should().BeTrue($"every produced message ({_produced}) is read and processed, whatever the commits do");
        }

        public async ValueTask DisposeAsync()
        {
            _producer.Dispose();
            await _provider.DisposeAsync();
        }
    }
}
