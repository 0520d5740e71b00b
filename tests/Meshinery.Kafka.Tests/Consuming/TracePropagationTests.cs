using System.Collections.Concurrent;
using System.Diagnostics;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class TracePropagationTests(KafkaFixture kafka)
{
    [Fact]
    public async Task Run_ItemWrittenByOneTaskAndReadByAnother_ContinuesTheSameTrace()
    {
        var topic = await kafka.CreateTopicAsync("traced", 1);
        var producerTask = KafkaFixture.UniqueName("producer");
        var consumerTask = KafkaFixture.UniqueName("consumer");
        var stopped = new ConcurrentDictionary<string, Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Meshinery",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("meshinery.task") is string task && (task == producerTask || task == consumerTask))
                {
                    stopped[task] = activity;
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var input = new InMemoryInput<string>();
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh
            .AddTask<string>(producerTask, task => task.ReadFrom(input).WriteTo(new KafkaOutput<string>(topic)))
            .AddTask<string>(consumerTask, task => task
                .ReadFrom(new KafkaInput<string>(topic, o => o.GroupId = KafkaFixture.UniqueName("group")))
                .Do(_ => received.TrySetResult())));

        input.TryWrite("hello").Should().BeTrue();
        await received.Task.WaitAsync(TimeSpan.FromSeconds(60));
        await engine.StopAsync();

        var upstream = stopped[producerTask];
        var downstream = stopped[consumerTask];
        downstream.TraceId.Should().Be(upstream.TraceId);
        downstream.ParentSpanId.Should().Be(upstream.SpanId);
    }
}
