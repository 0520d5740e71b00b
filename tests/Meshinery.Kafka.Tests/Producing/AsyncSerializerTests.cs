using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka.Tests.Producing;

/// <summary>
/// Inputs and outputs with Confluent's async serdes interfaces (as the Schema Registry's are), implemented here: values
/// go through them, and one that throws or faults on one message sends it to the error path with its bytes and reason.
/// </summary>
[Collection(KafkaTests.Name)]
public class AsyncSerializerTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Read_AsyncDeserializerThrowsOnOneAndFaultsOnAnother_BothDeadLetteredWithTheirBytesAndTheRestProcessed()
    {
        var inputTopic = await kafka.CreateTopicAsync("async-deser-in", 1);
        var deadLetterTopic = await kafka.CreateTopicAsync("async-deser-dlq", 1);
        var groupId = KafkaFixture.UniqueName("group");
        var messages = Enumerable.Range(0, 10).Select(i => (0, $"order-{i}", "v1:" + Order.Json(i))).ToList();
        messages[3] = (0, "thrown", "throw: this one is refused at once");
        messages[7] = (0, "faulted", "v1:{not json");
        await kafka.ProduceAsync(inputTopic, messages);
        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        var deserializer = new PrefixedJsonDeserializer();

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("async-read", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o =>
            {
                o.GroupId = groupId;
                o.AsyncDeserializer = deserializer;
            }))
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .Do(order => seen.Add(order.Id)))))
        {
            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("async-read").Finished == 10, Deadline)).Should().BeTrue();
            engine.Engine.GetStatistics("async-read").Failed.Should().Be(2);
        }

        seen.Should().BeEquivalentTo(["0", "1", "2", "4", "5", "6", "8", "9"], "the other messages went through the async deserializer");
        deserializer.Calls.Should().BeGreaterThanOrEqualTo(10);
        var deadLetters = kafka.ReadAll(deadLetterTopic, Deadline).ToDictionary(m => m.Message.Key);
        deadLetters.Keys.Should().BeEquivalentTo("thrown", "faulted");
        deadLetters["thrown"].Message.Value.Should().Be("throw: this one is refused at once", "the original bytes are kept");
        KafkaFixture.Header(deadLetters["thrown"], DeadLetterHeaders.ErrorMessage).Should().Be("refused before any await");
        KafkaFixture.Header(deadLetters["thrown"], DeadLetterHeaders.Step).Should().Be("read");
        deadLetters["faulted"].Message.Value.Should().Be("v1:{not json");
        KafkaFixture.Header(deadLetters["faulted"], DeadLetterHeaders.ErrorType).Should().Contain("JsonException", "the faulted task's exception is the reason");
        kafka.CommittedOffsets(groupId, inputTopic)[0].Should().Be(10, "the partition moves past both");
    }

    [Fact]
    public async Task Write_AsyncSerializerThrowsOnOneAndFaultsOnAnother_BothDeadLetteredWithTheInputBytesAndTheRestWritten()
    {
        var inputTopic = await kafka.CreateTopicAsync("async-ser-in", 1);
        var outputTopic = await kafka.CreateTopicAsync("async-ser-out", 1);
        var deadLetterTopic = await kafka.CreateTopicAsync("async-ser-dlq", 1);
        var groupId = KafkaFixture.UniqueName("group");
        var messages = Enumerable.Range(0, 10).Select(i => (0, $"order-{i}", Order.Json(i))).ToList();
        messages[2] = (0, "thrown", Order.Json(2).Replace("\"2\"", "\"throw\"", StringComparison.Ordinal));
        messages[5] = (0, "faulted", Order.Json(5).Replace("\"5\"", "\"fault\"", StringComparison.Ordinal));
        await kafka.ProduceAsync(inputTopic, messages);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("async-write", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.AsyncSerializer = new PrefixedJsonSerializer())))))
        {
            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("async-write").Finished == 10, Deadline)).Should().BeTrue();
            engine.Engine.GetStatistics("async-write").Failed.Should().Be(2);
        }

        var written = kafka.ReadAll(outputTopic, Deadline);
        written.Should().HaveCount(8);
        written.Should().OnlyContain(m => m.Message.Value.StartsWith("v1:{", StringComparison.Ordinal), "values are what the async serializer made");
        var deadLetters = kafka.ReadAll(deadLetterTopic, Deadline).ToDictionary(m => m.Message.Key);
        deadLetters.Keys.Should().BeEquivalentTo("thrown", "faulted");
        deadLetters["thrown"].Message.Value.Should().Be(messages[2].Item3, "the input message's bytes are kept");
        KafkaFixture.Header(deadLetters["thrown"], DeadLetterHeaders.ErrorMessage).Should().Be("cannot serialize order throw");
        deadLetters["faulted"].Message.Value.Should().Be(messages[5].Item3);
        KafkaFixture.Header(deadLetters["faulted"], DeadLetterHeaders.ErrorMessage).Should().Be("schema registry said no to order fault");
        kafka.CommittedOffsets(groupId, inputTopic)[0].Should().Be(10);
    }

    [Fact]
    public async Task BuildEngine_SyncAndAsyncSerdesBothSet_FailsNamingTheSettings()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = kafka.BootstrapServers)
            .AddTask<Order>("both", task => task
                .ReadFrom(new KafkaInput<Order>("in", o =>
                {
                    o.GroupId = "g";
                    o.Deserializer = new JsonKafkaSerializer<Order>();
                    o.AsyncDeserializer = new PrefixedJsonDeserializer();
                }))
                .WriteTo(new KafkaOutput<Order>("out", o =>
                {
                    o.Serializer = new JsonKafkaSerializer<Order>();
                    o.AsyncSerializer = new PrefixedJsonSerializer();
                }))));
        await using var provider = services.BuildServiceProvider();

        var build = () => provider.GetRequiredService<MeshineryEngine>();

        build.Should().Throw<MeshineryConfigurationException>().Which.Message
            .Should().Contain("task 'both', setting AsyncDeserializer: Kafka input 'in' has both a Deserializer and an AsyncDeserializer")
            .And.Contain("task 'both', setting AsyncSerializer: Kafka output 'out' has both a Serializer and an AsyncSerializer");
    }

    /// <summary>Reads <c>v1:</c> + JSON after an await; refuses <c>throw:</c> values before any await (a synchronous throw).</summary>
    private sealed class PrefixedJsonDeserializer : IAsyncDeserializer<Order>
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task<Order> DeserializeAsync(ReadOnlyMemory<byte> data, bool isNull, SerializationContext context)
        {
            Interlocked.Increment(ref _calls);
            var text = Encoding.UTF8.GetString(data.Span);
            return text.StartsWith("throw:", StringComparison.Ordinal)
                ? throw new InvalidDataException("refused before any await")
                : ParseAsync(text);
        }

        private static async Task<Order> ParseAsync(string text)
        {
            await Task.Yield(); // completes later, as a registry lookup would
            if (!text.StartsWith("v1:", StringComparison.Ordinal))
            {
                throw new InvalidDataException("no v1: prefix");
            }

            return JsonSerializer.Deserialize<Order>(text[3..], JsonSerializerOptions.Web)!; // faults with JsonException on bad JSON
        }
    }

    /// <summary>Writes <c>v1:</c> + JSON after an await; throws at once for order <c>throw</c>, faults for order <c>fault</c>.</summary>
    private sealed class PrefixedJsonSerializer : IAsyncSerializer<Order>
    {
        public Task<byte[]> SerializeAsync(Order data, SerializationContext context) =>
            data.Id == "throw" ? throw new InvalidOperationException("cannot serialize order throw") : WriteAsync(data);

        private static async Task<byte[]> WriteAsync(Order data)
        {
            await Task.Yield();
            return data.Id == "fault"
                ? throw new InvalidOperationException("schema registry said no to order fault")
                : Encoding.UTF8.GetBytes("v1:" + JsonSerializer.Serialize(data, JsonSerializerOptions.Web));
        }
    }
}
