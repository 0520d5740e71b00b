using Meshinery;

namespace OrderEnrichment;

/// <summary>
/// Wraps an output and reports every write the broker acknowledged (the engine awaits the same write, so a run is
/// acknowledged only after this has been called for it). A wrapper forwards every member the engine asks of a sink:
/// its settings check at build (<see cref="Validate"/>) and whether its writes block (<see cref="IsNonBlocking"/>:
/// <paramref name="written"/> only counts, so the wrapper blocks exactly when the inner sink does).
/// </summary>
internal sealed class ObservedOutput<T>(OutputSink<T> inner, Action<T> written) : OutputSink<T>(inner.Name), ITopologyEndpoint
{
    /// <summary>The topology description (<c>--describe</c>) shows the wrapped output's kind.</summary>
    public string Kind => inner is ITopologyEndpoint described ? described.Kind : inner.GetType().Name.Split('`')[0];

    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) => inner.StartAsync(context, cancellationToken);

    public override ValueTask StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public override bool IsTransient(Exception exception) => inner.IsTransient(exception);

    public override IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services) => inner.Validate(services);

    public override bool IsNonBlocking => inner.IsNonBlocking;

    public override ValueTask WriteAsync(T item, CancellationToken cancellationToken)
    {
        var write = inner.WriteAsync(item, cancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            written(item);
            return default;
        }

        return AwaitAsync(write, item);
    }

    private async ValueTask AwaitAsync(ValueTask write, T item)
    {
        await write.ConfigureAwait(false);
        written(item);
    }
}
