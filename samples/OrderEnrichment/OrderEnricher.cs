using Meshinery;

namespace OrderEnrichment;

/// <summary>An order with its customer's profile, between the blocking and the async step.</summary>
internal sealed record CustomerOrder(Order Order, CustomerProfile Profile, SourcePosition Position);

/// <summary>The task's steps. Each one is a plain method: Meshinery decides on which thread it runs.</summary>
internal sealed class OrderEnricher(CustomerDirectory directory, TaxService tax, string instance, Observations observations)
{
    /// <summary>Step 1 (sync): rejects orders that are valid JSON but unusable; they are dead-lettered like malformed JSON.</summary>
    public Order Validate(Order order)
    {
        // The ambient run context: where this message came from, on whatever thread the step runs.
        observations.OnRead(TaskRunContext.Current!.Position);
        if (string.IsNullOrWhiteSpace(order.Id))
        {
            throw new InvalidOrderException("The order has no id.");
        }

        if (string.IsNullOrWhiteSpace(order.Customer))
        {
            throw new InvalidOrderException($"Order '{order.Id}' has no customer.");
        }

        return order.Amount < 0 ? throw new InvalidOrderException($"Order '{order.Id}' has a negative amount.") : order;
    }

    /// <summary>Step 2 (sync, blocking): holds a worker thread for the directory's latency.</summary>
    public CustomerOrder LookUpCustomer(Order order) =>
        new(order, directory.Lookup(order.Customer!), TaskRunContext.Current!.Position);

    /// <summary>Step 3 (async): holds the message's in-flight slot, but no thread, while the tax service answers.</summary>
    public async ValueTask<EnrichedOrder> PriceAsync(CustomerOrder item, CancellationToken cancellationToken)
    {
        var rate = await tax.RateAsync(item.Profile.Region, cancellationToken).ConfigureAwait(false);
        var order = item.Order;
        return new EnrichedOrder(
            order.Id!,
            order.Customer!,
            order.Amount,
            item.Profile.Tier,
            item.Profile.Region,
            rate,
            decimal.Round(order.Amount * (1 + rate), 2, MidpointRounding.AwayFromZero),
            instance,
            item.Position.Partition,
            item.Position.Offset);
    }
}
