using System.Globalization;
using System.Text.Json;
using Meshinery.Kafka.Tests.Support;
using Xunit.Abstractions;

namespace Meshinery.Kafka.Tests.Samples;

/// <summary>
/// The OrderEnrichment sample with <c>--ordering key</c>, as a child process on the shared cluster: input keyed by
/// customer, each customer's orders enriched and written in their input order.
/// </summary>
[Collection(KafkaTests.Name)]
public class OrderEnrichmentKeyOrderingTests(KafkaFixture kafka, ITestOutputHelper output)
{
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ReadDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Sample_OrderingByKeyWithOrdersKeyedByCustomer_WritesEachCustomersOrdersInTheirInputOrder()
    {
        const int count = 1_000;
        const int partitions = 8;
        var input = await kafka.CreateTopicAsync("key-order-orders", partitions);
        var outputTopic = await kafka.CreateTopicAsync("key-order-enriched", partitions);
        var deadLetters = await kafka.CreateTopicAsync("key-order-dead-letters", 1);
        var groupId = KafkaFixture.UniqueName("key-order-group");

        // Keyed by customer (17 of them), each customer on one partition as a keyed producer would put it; several
        // customers share a partition, so ordering by partition would be stricter than asked and unordered too loose.
        await kafka.ProduceAsync(input, Enumerable.Range(0, count).Select(i => (i % 17 % partitions, Customer(i), Order.Json(i))));

        // 5 ms of blocking latency per order and up to 200 in flight: unordered, a customer's orders would overlap.
        await using var sample = SampleProcess.Start(
        [
            "--bootstrap-servers", kafka.BootstrapServers,
            "--input-topic", input,
            "--output-topic", outputTopic,
            "--dead-letter-topic", deadLetters,
            "--group-id", groupId,
            "--ordering", "key",
            "--latency-ms", "5",
            "--exit-when-idle", "2",
        ]);
        var exitCode = await sample.WaitForExitAsync(ExitDeadline);
        output.WriteLine(sample.Transcript);
        exitCode.Should().Be(0, "the sample ran to idle and committed everything:{0}{1}", Environment.NewLine, sample.Transcript);
        sample.Summary().Processed.Should().Be(count);

        var written = kafka.ReadAll(outputTopic, ReadDeadline)
            .Select(m => (Order: Enriched.Parse(m.Message.Value), WrittenAtMs: m.Message.Timestamp.UnixTimestampMs))
            .ToList();
        written.Select(w => w.Order.Id).Should().BeEquivalentTo(Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)), "every order exactly once");

        // A customer's next order starts only once the previous one's write was acknowledged, and each takes at least
        // the 5 ms blocking call: in input (offset) order, each customer's writes carry strictly increasing timestamps.
        foreach (var customer in written.GroupBy(w => w.Order.Customer))
        {
            customer.Select(w => w.Order.SourcePartition).Distinct().Should().ContainSingle("a customer's orders share a partition");
            var inInputOrder = customer.OrderBy(w => w.Order.SourceOffset).ToList();
            inInputOrder.Select(w => int.Parse(w.Order.Id, CultureInfo.InvariantCulture)).Should().BeInAscendingOrder("the input order of the customer's orders");
            for (var i = 1; i < inInputOrder.Count; i++)
            {
                inInputOrder[i].WrittenAtMs.Should().BeGreaterThan(
                    inInputOrder[i - 1].WrittenAtMs,
                    "{0}'s order {1} is written after its order {2}, which came before it in the input",
                    customer.Key,
                    inInputOrder[i].Order.Id,
                    inInputOrder[i - 1].Order.Id);
            }
        }
    }

    private static string Customer(int i) => "customer-" + (i % 17).ToString(CultureInfo.InvariantCulture);

    /// <summary>The fields of the sample's output this test looks at.</summary>
    private sealed record Enriched(string Id, string Customer, int SourcePartition, long SourceOffset)
    {
        public static Enriched Parse(string json) =>
            JsonSerializer.Deserialize<Enriched>(json, JsonSerializerOptions.Web) ?? throw new FormatException($"Not an enriched order: {json}");
    }
}
