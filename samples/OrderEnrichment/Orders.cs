using System.Globalization;
using System.Text.Json.Serialization;

namespace OrderEnrichment;

/// <summary>An order as it arrives on the input topic: <c>{"id": "...", "customer": "...", "amount": 12.5}</c>, keyed by its id.</summary>
internal sealed record Order(
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("customer")] string? Customer,
    [property: JsonPropertyName("amount")] decimal Amount)
{
    /// <summary>The order the seeder writes as number <paramref name="n"/>: deterministic, so runs can be compared.</summary>
    public static Order Create(int n) => new(
        string.Create(CultureInfo.InvariantCulture, $"order-{n:D6}"),
        string.Create(CultureInfo.InvariantCulture, $"customer-{n % 97:D2}"),
        5m + (n * 7919 % 49_500) / 100m);
}

/// <summary>What the customer directory knows about a customer.</summary>
internal sealed record CustomerProfile(string Tier, string Region);

/// <summary>What the sample writes to the output topic, under the order's id as key.</summary>
internal sealed record EnrichedOrder(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("customer")] string Customer,
    [property: JsonPropertyName("amount")] decimal Amount,
    [property: JsonPropertyName("tier")] string Tier,
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("taxRate")] decimal TaxRate,
    [property: JsonPropertyName("priceWithTax")] decimal PriceWithTax,
    [property: JsonPropertyName("enrichedBy")] string EnrichedBy,
    [property: JsonPropertyName("sourcePartition")] int SourcePartition,
    [property: JsonPropertyName("sourceOffset")] long SourceOffset);

/// <summary>An order that is valid JSON but not a usable order; it goes to the dead-letter topic like malformed JSON.</summary>
internal sealed class InvalidOrderException(string message) : Exception(message);

/// <summary>
/// A legacy, synchronous customer directory: every lookup blocks its thread for the configured latency (think a SOAP
/// client or a JDBC driver). On a plain consume loop this caps a partition at 1 / latency messages per second; here it
/// holds one Meshinery worker thread, and only that one, for the duration of the call.
/// </summary>
internal sealed class CustomerDirectory(TimeSpan latency)
{
    private static readonly string[] s_tiers = ["bronze", "silver", "gold"];
    private static readonly string[] s_regions = ["eu", "us", "apac"];

    public CustomerProfile Lookup(string customer)
    {
        if (latency > TimeSpan.Zero)
        {
            Thread.Sleep(latency); // the blocking call
        }

        var hash = StableHash(customer);
        return new CustomerProfile(s_tiers[hash % 3], s_regions[hash / 3 % 3]);
    }

    private static uint StableHash(string text)
    {
        var hash = 2166136261u; // FNV-1a: string.GetHashCode differs between processes
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }
}

/// <summary>An asynchronous tax service: while it waits, the message holds an in-flight slot but no thread.</summary>
internal sealed class TaxService(TimeSpan latency, TimeProvider time)
{
    public async ValueTask<decimal> RateAsync(string region, CancellationToken cancellationToken)
    {
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, time, cancellationToken).ConfigureAwait(false); // the async call
        }

        return region switch
        {
            "eu" => 0.19m,
            "us" => 0.08m,
            _ => 0.10m,
        };
    }
}
