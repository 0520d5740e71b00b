using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Producing;

/// <summary>
/// The Kafka output declares its writes non-blocking, so that after an async step the engine writes on the thread that
/// completed the await; an output whose functions may block (or whose serializer is sync-over-async) writes on a worker.
/// </summary>
[Collection(KafkaTests.Name)]
public class KafkaOutputWriteThreadTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public void IsNonBlocking_Default_True()
    {
        new KafkaOutput<string>("out").IsNonBlocking.Should().BeTrue();
        new KafkaOutput<Order>("out", o =>
        {
            o.Key = order => order.Customer;
            o.Headers = _ => null;
            o.Serializer = new Utf8JsonSerializer();
        }).IsNonBlocking.Should().BeTrue("functions are taken not to block unless the output says so");
    }

    [Fact]
    public void IsNonBlocking_FunctionsMayBlockOrSyncOverAsyncSerializer_False()
    {
        new KafkaOutput<string>("out", o => o.FunctionsMayBlock = true).IsNonBlocking.Should().BeFalse();
        new KafkaOutput<Order>("out", o => o.Serializer = new Utf8JsonAsyncSerializer().AsSyncOverAsync())
            .IsNonBlocking.Should().BeFalse("a sync-over-async serializer blocks on its task");
    }

    [Fact]
    public async Task Write_AfterAnAsyncStep_RunsOnAThreadPoolThreadUnlessTheFunctionsMayBlock()
    {
        var inputTopic = await kafka.CreateTopicAsync("write-thread-in", 1);
        var inlineTopic = await kafka.CreateTopicAsync("write-thread-inline", 1);
        var workerTopic = await kafka.CreateTopicAsync("write-thread-worker", 1);
        const int count = 50;
        await kafka.ProduceAsync(inputTopic, Enumerable.Range(0, count).Select(i => (0, "order-" + i.ToString(CultureInfo.InvariantCulture), Order.Json(i))));
        var inlineThreads = new ConcurrentQueue<(bool ThreadPool, string? Name, string? Task)>();
        var workerThreads = new ConcurrentQueue<(bool ThreadPool, string? Name, string? Task)>();
        static (bool, string?, string?) Where() =>
            (Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name, TaskRunContext.Current?.TaskName);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh
            .AddTask<Order>("inline-write", task => task
                .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = KafkaFixture.UniqueName("group")))
                .Process(async (order, ct) =>
                {
                    await Task.Delay(1, ct);
                    return order;
                })
                .WriteTo(new KafkaOutput<Order>(inlineTopic, o => o.Key = order =>
                {
                    inlineThreads.Enqueue(Where());
                    return order.Id;
                })))
            .AddTask<Order>("worker-write", task => task
                .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = KafkaFixture.UniqueName("group")))
                .Process(async (order, ct) =>
                {
                    await Task.Delay(1, ct);
                    return order;
                })
                .WriteTo(new KafkaOutput<Order>(workerTopic, o =>
                {
                    o.FunctionsMayBlock = true;
                    o.Key = order =>
                    {
                        workerThreads.Enqueue(Where());
                        return order.Id;
                    };
                })))))
        {
            (await Eventually.HoldsAsync(
                () => engine.Engine.GetStatistics("inline-write").Completed == count && engine.Engine.GetStatistics("worker-write").Completed == count,
                Deadline)).Should().BeTrue();
        }

        inlineThreads.Should().HaveCountGreaterThanOrEqualTo(count).And.OnlyContain(
            w => w.ThreadPool && w.Task == "inline-write", "the write ran where the await completed, inside the run's context");
        workerThreads.Should().HaveCountGreaterThanOrEqualTo(count).And.OnlyContain(
            w => !w.ThreadPool && w.Name != null && w.Name.StartsWith("meshinery-worker-", StringComparison.Ordinal) && w.Task == "worker-write");
        kafka.ReadAll(inlineTopic, Deadline).Select(m => m.Message.Key).Should().BeEquivalentTo(Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        kafka.ReadAll(workerTopic, Deadline).Should().HaveCount(count);
    }

    private sealed class Utf8JsonSerializer : ISerializer<Order>
    {
        public byte[] Serialize(Order data, SerializationContext context) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(data);
    }

    private sealed class Utf8JsonAsyncSerializer : IAsyncSerializer<Order>
    {
        public Task<byte[]> SerializeAsync(Order data, SerializationContext context) =>
            Task.FromResult(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(data));
    }
}
