namespace Meshinery;

/// <summary>
/// The untyped part of an input source: its name and lifecycle. Derive from <see cref="InputSource{T}"/>.
/// </summary>
public abstract class InputSource
{
    private protected InputSource(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The source's name, used in logs, metrics and <see cref="SourcePosition.Source"/>.</summary>
    public string Name { get; }

    /// <summary>
    /// <see langword="true"/> when the source will never have another item (used by batch mode to stop by itself).
    /// Continuous sources such as Kafka topics return <see langword="false"/>.
    /// </summary>
    public virtual bool IsDrained => false;

    /// <summary>
    /// Resolves and checks the source's settings when the engine is built, so that its problems fail the build with
    /// every other one in a single <see cref="MeshineryConfigurationException"/>. Default: nothing to check.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>Each problem as the setting's name and what is wrong with it; the engine adds the task's name.</returns>
    public virtual IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services) => [];

    /// <summary>Starts the source. The engine calls it once, before the first <c>Poll</c>.</summary>
    /// <param name="context">The engine's context: services, logging, clock and the wake-up call.</param>
    /// <param name="cancellationToken">Cancelled when the start is aborted.</param>
    /// <returns>A task that completes when the source is ready.</returns>
    public virtual ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) => default;

    /// <summary>
    /// Stops the source. The engine calls it once, after polling stopped and in-flight runs finished or were
    /// abandoned, so that every acknowledgement has been delivered (Kafka commits its final offsets here).
    /// </summary>
    /// <param name="cancellationToken">Cancelled when the stop must hurry.</param>
    /// <returns>A task that completes when the source is stopped.</returns>
    public virtual ValueTask StopAsync(CancellationToken cancellationToken) => default;
}

/// <summary>
/// An input of a task: poll-based and batched. The engine's poll loop calls <see cref="Poll"/> from one dedicated
/// thread, asking for at most as many items as the task has free in-flight slots, and acknowledges each item
/// exactly once when its run ends.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
/// <remarks>
/// <see cref="Poll"/> must not block: return what is ready. When it returns nothing, the engine waits until the
/// source calls <see cref="SourceContext.NotifyItemsAvailable"/> or its idle poll interval passes.
/// An exception from <see cref="Poll"/> is logged and the source is polled again after a backoff.
/// A source instance belongs to one task.
/// </remarks>
public abstract class InputSource<T> : InputSource
{
    /// <summary>Creates the source.</summary>
    /// <param name="name">The source's name.</param>
    protected InputSource(string name)
        : base(name)
    {
    }

    /// <summary>Copies up to <c>buffer.Length</c> ready items into <paramref name="buffer"/> without blocking.</summary>
    /// <param name="buffer">Where to put the items; its length is the most the engine can take now.</param>
    /// <returns>The number of items written to <paramref name="buffer"/>.</returns>
    public abstract int Poll(Span<SourceItem<T>> buffer);
}
