using Meshinery;
using Microsoft.Extensions.Logging;

namespace BlockingSteps;

/// <summary>An order as it arrives.</summary>
internal sealed record Order(int Id, string Sku, int Quantity)
{
    public static Order Create(int id) => new(id, $"SKU-{id % 97:D3}", 1 + (id % 7));
}

/// <summary>An order with what the legacy catalog knows about its article.</summary>
internal sealed record CatalogItem(Order Order, decimal UnitPrice, bool Discontinued);

/// <summary>An order with its price.</summary>
internal sealed record PricedOrder(Order Order, decimal Total, bool Discontinued);

/// <summary>What the task writes: an order's total, shipping cost and tax.</summary>
internal sealed record Quote(int OrderId, decimal Total, decimal Shipping, decimal Tax);

/// <summary>
/// A legacy, synchronous client: every call blocks its thread for the configured latency (think SOAP over a blocking
/// HTTP client). On a plain consume loop this caps a partition at 1 / latency items per second.
/// </summary>
internal sealed class LegacyCatalog(TimeSpan latency, int logEvery, ILogger logger)
{
    public CatalogItem Lookup(Order order)
    {
        // The property joins the run's logging scope: every later log of this run, in any step and on any thread,
        // carries it.
        TaskRunContext.Current?.SetLogProperty("OrderId", order.Id);

        Thread.Sleep(latency); // the blocking call: it holds this worker thread, and only this one

        if (order.Id % logEvery == 0)
        {
            // TaskData.Current is the task's configuration, available on whatever thread the step runs.
            Log.CatalogAnswered(logger, TaskData.Current?["legacy.system"], latency.TotalMilliseconds, Thread.CurrentThread.Name);
        }

        return new CatalogItem(order, 4.99m + (order.Id % 23), Discontinued: order.Id % 10 == 7);
    }
}

/// <summary>An asynchronous pricing service: while it waits, the run holds an in-flight slot but no thread.</summary>
internal sealed class PricingService(TimeSpan latency, int logEvery, ILogger logger)
{
    public async ValueTask<PricedOrder> PriceAsync(CatalogItem item, CancellationToken cancellationToken)
    {
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        var total = item.UnitPrice * item.Order.Quantity;
        if (item.Order.Id % logEvery == 0)
        {
            // After the await this runs on a .NET thread-pool thread, still inside the run's scope.
            Log.Priced(logger, total, Thread.CurrentThread.Name);
        }

        return new PricedOrder(item.Order, total, item.Discontinued);
    }
}

/// <summary>An asynchronous shipping quote, one branch of the fork-join.</summary>
internal sealed class ShippingService(TimeSpan latency, int logEvery, ILogger logger)
{
    public async ValueTask<decimal> QuoteAsync(PricedOrder order, CancellationToken cancellationToken)
    {
        var startedOn = Thread.CurrentThread.Name;
        await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
        var cost = order.Total >= 50m ? 0m : 4.90m;
        if (order.Order.Id % logEvery == 0)
        {
            Log.ShippingQuoted(logger, cost, startedOn, Thread.CurrentThread.Name);
        }

        return cost;
    }
}

/// <summary>The other fork branch: a quick synchronous computation.</summary>
internal static class TaxTable
{
    public static decimal TaxFor(PricedOrder order) => decimal.Round(order.Total * 0.19m, 2);
}
