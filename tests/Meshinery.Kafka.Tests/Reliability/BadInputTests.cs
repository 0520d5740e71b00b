using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Meshinery.TestSupport;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// The generated bad-input corpus among good orders, written by an independent producer (plain Confluent, bytes):
/// every malformed message reaches the dead-letter topic with its original key, value and headers and the reason,
/// every good one is processed, and no commit passes a message that is not finished.
/// </summary>
[Collection(KafkaTests.Name)]
public class BadInputTests(KafkaFixture kafka)
{
    private const int Partitions = 3;
    private const int GoodOrders = 300;
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_MalformedCorpusAmongGoodOrders_DeadLettersEachAsItWasProcessesTheRestAndCommitsNothingPastAnUnfinishedMessage()
    {
        var inputTopic = await kafka.CreateTopicAsync("corpus-in", Partitions);
        var outputTopic = await kafka.CreateTopicAsync("corpus-out", Partitions);
        var deadLetterTopic = await kafka.CreateTopicAsync("corpus-dlq", 1);
        var groupId = KafkaFixture.UniqueName("corpus-group");

        // Good orders 0..299, a corpus message after every 10th, and one order (the gated one) that stays unfinished
        // until the test has checked the commits of its partition.
        var malformed = BadInputCorpus.Malformed(Partitions).ToList();
        var extras = new Queue<RawMessage>(malformed.Concat(BadInputCorpus.AwkwardButGood(Partitions, GoodOrders)));
        var messages = new List<RawMessage>();
        for (var i = 0; i < GoodOrders; i++)
        {
            messages.Add(new RawMessage("order-" + Id(i), i % Partitions, BadInputCorpus.Utf8(Id(i)), BadInputCorpus.Utf8(Order.Json(i)), []));
            if (i % 10 == 5 && extras.Count > 0)
            {
                messages.Add(extras.Dequeue());
            }
        }

        messages.AddRange(extras);
        var gatedId = GoodOrders + 1_000;
        var gatedIndex = messages.Count / 2;
        messages.Insert(gatedIndex, new RawMessage("gated", 0, BadInputCorpus.Utf8("gated"), BadInputCorpus.Utf8(Order.Json(gatedId)), []));
        var offsets = await RawMessages.ProduceAsync(kafka, inputTopic, messages);
        var gatedOffset = offsets[gatedIndex];

        using var gate = new ManualResetEventSlim();
        var input = new KafkaInput<Order>(inputTopic, o => o.GroupId = groupId);
        var commitsOfGatedPartition = CommitsOf.Record(input, 0);

        var goodCount = messages.Count - malformed.Count;
        await using (var engine = await TestEngine.StartAsync(
            kafka,
            mesh => mesh.AddTask<Order>("corpus", task => task
                .ReadFrom(input)
                .DeadLetterTo(new KafkaDeadLetterOutput(deadLetterTopic))
                .Process(order =>
                {
                    if (order.Id == Id(gatedId))
                    {
                        gate.WaitOrFail("the test to release the gated order");
                    }

                    return order;
                }, "gate")
                .WriteTo(new KafkaOutput<Order>(outputTopic, o => o.Key = order => order.Id))),
            options => options.ProducerConfig["message.max.bytes"] = RawMessages.MaxMessageBytes.ToString(CultureInfo.InvariantCulture)))
        {
            try
            {
                // Everything but the gated order finishes; its partition's commits stop exactly at it.
                (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("corpus").Finished >= messages.Count - 1, ReadDeadline))
                    .Should().BeTrue("every message but the gated one should finish");
                (await Eventually.HoldsAsync(() => CommitsOf.Last(input, 0) == gatedOffset, ReadDeadline))
                    .Should().BeTrue("partition 0 should be committed up to the unfinished gated order at offset {0}", gatedOffset);
                commitsOfGatedPartition.Should().OnlyContain(c => c <= gatedOffset, "no commit may pass the unfinished order");
            }
            finally
            {
                gate.Set();
            }

            (await Eventually.HoldsAsync(() => engine.Engine.GetStatistics("corpus").Finished >= messages.Count, ReadDeadline))
                .Should().BeTrue("the gated order finishes once released");
            var statistics = engine.Engine.GetStatistics("corpus");
            statistics.Failed.Should().Be(malformed.Count);
            statistics.Completed.Should().Be(goodCount);
        }

        // Every good order out, once (no crash, no rebalance: exactly once).
        var outputs = kafka.ReadAll(outputTopic, ReadDeadline);
        var expectedIds = Enumerable.Range(0, GoodOrders).Concat(Enumerable.Range(GoodOrders, goodCount - GoodOrders - 1)).Append(gatedId).Select(Id);
        outputs.Select(o => o.Message.Key).Should().BeEquivalentTo(expectedIds, "every good order, awkward keys and headers included, is processed once");

        // Every malformed message dead-lettered once, as it was: key, value and headers byte for byte, plus the reason.
        var deadLetters = RawMessages.ReadAll(kafka, deadLetterTopic, ReadDeadline)
            .ToDictionary(d => Encoding.UTF8.GetString(RawMessages.HeaderValues(d.Message.Headers, BadInputCorpus.NameHeader).Single()));
        deadLetters.Keys.Should().BeEquivalentTo(malformed.Select(m => m.Name));
        foreach (var original in malformed)
        {
            var letter = deadLetters[original.Name].Message;
            var because = $"the dead letter of '{original.Name}' keeps the original";
            letter.Key.Should().Equal(original.Key, because);
            letter.Value.Should().Equal(original.Value, because);
            letter.Headers.Take(original.Headers.Count).Select(h => (h.Key, h.GetValueBytes())).Should()
                .BeEquivalentTo(original.Headers, o => o.WithStrictOrdering(), because + " headers first, in order");
            Header(letter, DeadLetterHeaders.Step).Should().Be(ProcessingFailure.ReadStepName, original.Name);
            Header(letter, DeadLetterHeaders.ErrorType).Should().EndWith("Exception", original.Name);
            Header(letter, DeadLetterHeaders.ErrorMessage).Should().NotBeNullOrWhiteSpace(original.Name);
            Header(letter, DeadLetterHeaders.SourceTopic).Should().Be(inputTopic, original.Name);
            Header(letter, DeadLetterHeaders.SourcePartition).Should().Be(original.Partition.ToString(CultureInfo.InvariantCulture), original.Name);
            Header(letter, DeadLetterHeaders.SourceOffset).Should().Be(offsets[messages.IndexOf(original)].ToString(CultureInfo.InvariantCulture), original.Name);
        }

        kafka.CommittedOffsets(groupId, inputTopic).Should().BeEquivalentTo(kafka.EndOffsets(inputTopic), "every message finished, so every partition is committed to its end");
    }

    private static string Id(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Header(Message<byte[]?, byte[]?> message, string key) =>
        Encoding.UTF8.GetString(RawMessages.HeaderValues(message.Headers, key).Last());
}
