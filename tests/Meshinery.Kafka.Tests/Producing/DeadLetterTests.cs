using System.Globalization;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Producing;

[Collection(KafkaTests.Name)]
public class DeadLetterTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_PoisonMessageAndAlwaysFailingMessage_BothDeadLetteredWithReasonsAndPartitionMovesOn()
    {
        var inputTopic = await kafka.CreateTopicAsync("poison-in", 2);
        var outputTopic = await kafka.CreateTopicAsync("poison-out", 2);
        var deadLetterTopic = await kafka.CreateTopicAsync("poison-dlq", 1);
        var groupId = KafkaFixture.UniqueName("group");
        var messages = Enumerable.Range(0, 100).Select(i => (i % 2, i.ToString(CultureInfo.InvariantCulture), Order.Json(i))).ToList();
        messages[10] = (0, "poison", "{not json");           // partition 0, offset 5
        messages[21] = (1, "boom", Order.Json(21).Replace("\"21\"", "\"boom\"", StringComparison.Ordinal)); // always throws
        await kafka.ProduceAsync(inputTopic, messages);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("poison", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .WithRetry(options =>
            {
                options.MaxAttempts = 3;
                options.Delay = TimeSpan.FromMilliseconds(10);
            })
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .Process(order => order.Id == "boom" ? throw new InvalidOperationException("pricing refused order boom") : order, "price")
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id)))))
        {
            await WaitForFinishedAsync(engine.Engine, "poison", messages.Count);
            var statistics = engine.Engine.GetStatistics("poison");
            statistics.Failed.Should().Be(2);
            statistics.Completed.Should().Be(98);
        }

        var deadLetters = kafka.ReadAll(deadLetterTopic, Deadline).ToDictionary(m => m.Message.Key);
        deadLetters.Keys.Should().BeEquivalentTo("poison", "boom");

        var poison = deadLetters["poison"];
        poison.Message.Value.Should().Be("{not json", "the original bytes are kept");
        KafkaFixture.Header(poison, DeadLetterHeaders.ErrorType).Should().Contain("JsonException");
        KafkaFixture.Header(poison, DeadLetterHeaders.Step).Should().Be("read");
        KafkaFixture.Header(poison, DeadLetterHeaders.SourceTopic).Should().Be(inputTopic);
        KafkaFixture.Header(poison, DeadLetterHeaders.SourcePartition).Should().Be("0");
        KafkaFixture.Header(poison, DeadLetterHeaders.SourceOffset).Should().Be("5");
        KafkaFixture.Header(poison, DeadLetterHeaders.Task).Should().Be("poison");

        var boom = deadLetters["boom"];
        KafkaFixture.Header(boom, DeadLetterHeaders.ErrorType).Should().Be(typeof(InvalidOperationException).FullName);
        KafkaFixture.Header(boom, DeadLetterHeaders.ErrorMessage).Should().Be("pricing refused order boom");
        KafkaFixture.Header(boom, DeadLetterHeaders.Step).Should().Be("price");
        KafkaFixture.Header(boom, DeadLetterHeaders.Attempts).Should().Be("3");
        KafkaFixture.Header(boom, DeadLetterHeaders.SourcePartition).Should().Be("1");
        KafkaFixture.Header(boom, DeadLetterHeaders.SourceOffset).Should().Be("10");

        kafka.ReadAll(outputTopic, Deadline).Select(m => m.Message.Key).Should().HaveCount(98).And.NotContain(["poison", "boom"]);
        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic), "both partitions move past the failed messages");
    }

    [Fact]
    public async Task Run_ErrorHandlerDecides_ReplacementIsWrittenAndDropIsCommitted()
    {
        var inputTopic = await kafka.CreateTopicAsync("handler-in", 1);
        var outputTopic = await kafka.CreateTopicAsync("handler-out", 1);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(inputTopic, [(0, "a", "{not json"), (0, "b", Order.Json(1)), (0, "c", Order.Json(2))]);

        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("handler", task => task
            .ReadFrom(new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId))
            .OnError(failure => failure.StepName == ProcessingFailure.ReadStepName
                ? ErrorDecision.Continue(new Order("replaced", "nobody", 0))
                : ErrorDecision.Drop)
            .Process(order => order.Id == "2" ? throw new InvalidOperationException("no") : order)
            .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id)))))
        {
            await WaitForFinishedAsync(engine.Engine, "handler", 3);
        }

        kafka.ReadAll(outputTopic, Deadline).Select(m => m.Message.Key).Should().BeEquivalentTo("replaced", "1");
        kafka.CommittedOffsets(groupId, inputTopic)[0].Should().Be(3);
    }

    private static async Task WaitForFinishedAsync(MeshineryEngine engine, string task, int count)
    {
        // The engine offers no completion signal per item count; its statistics are in-process counters, checked cheaply.
        (await Eventually.HoldsAsync(() => engine.GetStatistics(task).Finished >= count, Deadline))
            .Should().BeTrue($"all {count} messages should be finished within {Deadline}");
    }

    [Fact]
    public async Task Write_ItemNotFromKafka_IsWrittenAsJsonWithHeaders()
    {
        var deadLetterTopic = await kafka.CreateTopicAsync("dlq-json", 1);
        var input = new InMemoryInput<Order>();
        await using (var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("json-dlq", task => task
            .ReadFrom(input)
            .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
            .Process<Order>(_ => throw new FormatException("bad amount")))))
        {
            var result = await engine.Engine.InjectAsync("json-dlq", new Order("7", "c", 1.5)).AsTask().WaitAsync(Deadline);
            result.Outcome.Should().Be(RunOutcome.Failed);
        }

        var letter = kafka.ReadAll(deadLetterTopic, Deadline).Single();
        letter.Message.Value.Should().Be("""{"id":"7","customer":"c","amount":1.5}""");
        KafkaFixture.Header(letter, DeadLetterHeaders.ErrorMessage).Should().Be("bad amount");
        KafkaFixture.Header(letter, DeadLetterHeaders.SourceTopic).Should().Be("injected");
    }
}
