using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Diagnostics;

/// <summary>The instruments of the <c>Meshinery.Kafka</c> meter, read with a <see cref="System.Diagnostics.Metrics.MeterListener"/>, on the embedded cluster.</summary>
[Collection(KafkaTests.Name)]
public class KafkaMetricsTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ConsumerLag_WorkHeldWhileMoreArrivesThenReleased_CountsUnfinishedPerPartitionThenZeroAndCommittedOffsetFollows()
    {
        using var meter = new KafkaMeterRecorder();
        var topic = await kafka.CreateTopicAsync("metrics-lag", 2);
        var groupId = KafkaFixture.UniqueName("group");
        using var gate = new ManualResetEventSlim();
        var input = new KafkaInput<Order>(topic, o => o.GroupId = groupId);
        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("lag", task => task
            .ReadFrom(input)
            .Do(_ => gate.Wait(Deadline))));
        (await Eventually.HoldsAsync(() => input.AssignedPartitions == 2, Deadline)).Should().BeTrue("the only member gets both partitions");

        await kafka.ProduceAsync(topic, Enumerable.Range(0, 100).Select(i => (i % 2, $"order-{i}", Order.Json(i))));
        (await Eventually.HoldsAsync(() => Lags(meter, topic) is [50, 50], Deadline))
            .Should().BeTrue("nothing is finished while the step waits: 50 messages lag on each partition (was {0})", Describe(Lags(meter, topic)));
        meter.Gauge("meshinery.kafka.consumer.committed_offset").Where(r => Equals(r.Tag("messaging.destination.name"), topic))
            .Should().OnlyContain(r => r.Value == 0, "nothing is committed past the oldest unfinished message");

        await kafka.ProduceAsync(topic, Enumerable.Range(100, 50).Select(i => (i % 2, $"order-{i}", Order.Json(i))));
        (await Eventually.HoldsAsync(() => Lags(meter, topic) is [75, 75], Deadline))
            .Should().BeTrue("the lag grows with the messages that arrive unprocessed (was {0})", Describe(Lags(meter, topic)));

        gate.Set();
        (await Eventually.HoldsAsync(() => Lags(meter, topic) is [0, 0] && CommittedOffsets(meter, topic) is [75, 75], Deadline))
            .Should().BeTrue("once everything is processed and committed, the lag is 0 and the committed offset is the end (lag {0}, committed {1})",
                Describe(Lags(meter, topic)), Describe(CommittedOffsets(meter, topic)));
        kafka.CommittedOffsets(groupId, topic).Values.Should().Equal([75, 75], "the gauge reports what the broker has");

        var lag = meter.Gauge("meshinery.kafka.consumer.lag").First(r => Equals(r.Tag("messaging.destination.name"), topic));
        lag.Tag("meshinery.task").Should().Be("lag");
        lag.Tag("meshinery.input").Should().Be(topic);
        lag.Tag("messaging.destination.partition.id").Should().BeOfType<int>();
        meter.Gauge("meshinery.kafka.consumer.assigned_partitions").Should().Contain(r => Equals(r.Tag("meshinery.input"), topic) && r.Value == 2);
    }

    [Fact]
    public async Task Rebalances_InputJoinsThenLeaves_CountsOneAssignmentThenOneRevocation()
    {
        using var meter = new KafkaMeterRecorder();
        var topic = await kafka.CreateTopicAsync("metrics-rebalance", 2);
        var input = new KafkaInput<Order>(topic, o => o.GroupId = KafkaFixture.UniqueName("group"));
        var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("rebalance", task => task.ReadFrom(input).Do(_ => { })));
        await using (engine)
        {
            (await Eventually.HoldsAsync(() => input.AssignedPartitions == 2, Deadline)).Should().BeTrue();
            Rebalances(meter, topic, "assigned").Should().Be(1, "joining the group assigns both partitions in one rebalance");
            Rebalances(meter, topic, "revoked").Should().Be(0);

            await engine.StopAsync();
        }

        Rebalances(meter, topic, "revoked").Should().Be(1, "leaving the group at stop revokes the partitions");
        Rebalances(meter, topic, "lost").Should().Be(0);
        meter.Gauge("meshinery.kafka.consumer.assigned_partitions").Should().NotContain(r => Equals(r.Tag("meshinery.input"), topic), "a stopped input is no longer observed");
    }

    [Fact]
    public async Task ProduceDuration_OutputWritesTwentyItems_OneMeasurementPerWriteTaggedWithOutputAndTopic()
    {
        using var meter = new KafkaMeterRecorder();
        var inputTopic = await kafka.CreateTopicAsync("metrics-produce-in", 1);
        var outputTopic = await kafka.CreateTopicAsync("metrics-produce-out", 1);
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, 20).Select(i => (0, $"order-{i}", Order.Json(i))));
        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("produce", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = KafkaFixture.UniqueName("group")))
            .WriteTo(new KafkaOutput<Order>(outputTopic)))))
        {
            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("produce").Completed == 20, Deadline)).Should().BeTrue();
        }

        var writes = meter.Measurements("meshinery.kafka.producer.duration").Where(r => Equals(r.Tag("messaging.destination.name"), outputTopic)).ToList();
        writes.Should().HaveCount(20, "each acknowledged write is timed once");
        writes.Should().OnlyContain(r => r.Value > 0 && Equals(r.Tag("meshinery.output"), outputTopic) && Equals(r.Tag("meshinery.task"), "produce") && !r.Tags.ContainsKey("error.type"));
        var histogram = meter.Instrument("meshinery.kafka.producer.duration").Should().BeOfType<System.Diagnostics.Metrics.Histogram<double>>().Subject;
        histogram.Unit.Should().Be("s");
        histogram.Advice!.HistogramBucketBoundaries.Should().StartWith([0.0005, 0.001]).And.EndWith([120, 300], "the buckets span milliseconds to minutes");
        meter.Measurements("meshinery.kafka.consumer.commit.duration").Should().Contain(r => Equals(r.Tag("meshinery.input"), inputTopic), "the input's commits are timed");
    }

    [Fact]
    public async Task CommitFailures_FinalCommitRefused_CountedAndTimed()
    {
        using var meter = new KafkaMeterRecorder();
        await using var cluster = KafkaTestCluster.StartEmbedded();
        const string topic = "metrics-commit-refused";
        await cluster.CreateTopicAsync(topic, 1);
        var done = 0;
        var allDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = cluster.BootstrapServers;
                options.CommitInterval = TimeSpan.FromHours(1); // no periodic commit: the final one is the only one
            })
            .AddTask<string>("refused", task => task
                .ReadFrom(new KafkaInput<string>(topic, o => o.GroupId = topic + "-group"))
                .Do(_ =>
                {
                    if (Interlocked.Increment(ref done) == 10)
                    {
                        allDone.TrySetResult();
                    }
                })));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"\"v{i}\"" });
            }
        }

        await allDone.Task.WaitAsync(Deadline);
        meter.Measurements("meshinery.kafka.consumer.commit_failures").Should().BeEmpty();

        cluster.FailNextRequests(8 /* OffsetCommit */, ErrorCode.IllegalGeneration, ErrorCode.IllegalGeneration);
        await engine.StopAsync().WaitAsync(Deadline);

        meter.Measurements("meshinery.kafka.consumer.commit_failures").Where(r => Equals(r.Tag("meshinery.input"), topic))
            .Should().NotBeEmpty("the refused commit is counted").And.OnlyContain(r => r.Value == 1 && Equals(r.Tag("meshinery.task"), "refused"));
        meter.Measurements("meshinery.kafka.consumer.commit.duration").Should().Contain(r => Equals(r.Tag("meshinery.input"), topic), "a failed commit is timed too");
    }

    private static long[] Lags(KafkaMeterRecorder meter, string topic) => PerPartition(meter, "meshinery.kafka.consumer.lag", topic);

    private static long[] CommittedOffsets(KafkaMeterRecorder meter, string topic) => PerPartition(meter, "meshinery.kafka.consumer.committed_offset", topic);

    private static long[] PerPartition(KafkaMeterRecorder meter, string name, string topic) =>
        [.. meter.Gauge(name)
            .Where(r => Equals(r.Tag("messaging.destination.name"), topic))
            .OrderBy(r => (int)r.Tag("messaging.destination.partition.id")!)
            .Select(r => (long)r.Value)];

    private static long Rebalances(KafkaMeterRecorder meter, string topic, string kind) =>
        (long)meter.Measurements("meshinery.kafka.consumer.rebalances")
            .Where(r => Equals(r.Tag("meshinery.input"), topic) && Equals(r.Tag("meshinery.kafka.rebalance"), kind))
            .Sum(r => r.Value);

    private static string Describe(long[] values) => $"[{string.Join(", ", values)}]";
}
