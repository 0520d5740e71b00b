using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaRunContextTests(KafkaFixture kafka)
{
    [Fact]
    public async Task KafkaMessage_InsideAStep_GivesTheMessagesKeyHeadersAndPosition()
    {
        var topic = await kafka.CreateTopicAsync("context", 1);
        using (var producer = kafka.CreateProducer())
        {
            await producer.ProduceAsync(topic, new Message<string, string>
            {
                Key = "order-7",
                Value = Order.Json(7),
                Headers = new Headers { { "tenant", Encoding.UTF8.GetBytes("acme") } },
            });
        }

        var seen = new TaskCompletionSource<(string Key, string Tenant, long Offset)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("context", task => task
            .ReadFrom(new KafkaInput<Order>(topic, o => o.GroupId = KafkaFixture.UniqueName("group")))
            .Do(_ =>
            {
                var message = TaskRunContext.Current!.KafkaMessage()!;
                seen.TrySetResult((
                    Encoding.UTF8.GetString(message.Message.Key),
                    Encoding.UTF8.GetString(message.Message.Headers.GetLastBytes("tenant")),
                    message.Offset.Value));
            })));

        var (key, tenant, offset) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(60));
        key.Should().Be("order-7");
        tenant.Should().Be("acme");
        offset.Should().Be(0);
    }

    [Fact]
    public async Task KafkaMessage_ItemNotFromKafka_IsNull()
    {
        var seen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<int>("not-kafka", task => task
            .ReadFrom(new InMemoryInput<int>())
            .Do(_ => seen.TrySetResult(TaskRunContext.Current!.KafkaMessage() is null))));

        await engine.Engine.InjectAsync("not-kafka", 1);
        (await seen.Task.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
    }
}
