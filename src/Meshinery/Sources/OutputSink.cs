namespace Meshinery;

/// <summary>The untyped part of an output sink: its name and lifecycle. Derive from <see cref="OutputSink{T}"/>.</summary>
public abstract class OutputSink
{
    private protected OutputSink(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>The sink's name, used in logs and metrics.</summary>
    public string Name { get; }

    /// <summary>
    /// Resolves and checks the sink's settings when the engine is built, so that its problems fail the build with every
    /// other one in a single <see cref="MeshineryConfigurationException"/>. Called once per sink, even when several tasks
    /// share it. Default: nothing to check.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <returns>Each problem as the setting's name and what is wrong with it; the engine adds the task's name.</returns>
    public virtual IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services) => [];

    /// <summary>Starts the sink. The engine calls it once, before the first write, even when several tasks share it.</summary>
    /// <param name="context">The engine's context.</param>
    /// <param name="cancellationToken">Cancelled when the start is aborted.</param>
    /// <returns>A task that completes when the sink is ready.</returns>
    public virtual ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) => default;

    /// <summary>Stops the sink after the last write (a Kafka producer flushes here).</summary>
    /// <param name="cancellationToken">Cancelled when the stop must hurry.</param>
    /// <returns>A task that completes when the sink is stopped.</returns>
    public virtual ValueTask StopAsync(CancellationToken cancellationToken) => default;

    /// <summary>
    /// Whether a write that threw <paramref name="exception"/> failed because of an outage that will pass (a broker
    /// down). Transient failures are retried with a jittered backoff (<see cref="MeshineryOptions.ErrorBackoff"/>,
    /// <see cref="MeshineryOptions.ErrorBackoffJitter"/>) for as long as the engine runs, holding the run's in-flight
    /// slot; others are handled like a failed step: the task's retries, then its error handler or dead-letter output.
    /// </summary>
    /// <param name="exception">What the write threw.</param>
    /// <returns><see langword="false"/> by default; sinks that can tell an outage apart override it.</returns>
    public virtual bool IsTransient(Exception exception) => false;

    /// <summary>
    /// Whether <see cref="OutputSink{T}.WriteAsync"/> never blocks the calling thread: it does no synchronous I/O,
    /// waits on nothing and calls no code that might (it returns a pending task instead, completed when the write is
    /// durable). The engine may then call it on the .NET thread-pool thread that completed the run's previous await
    /// (an async step), instead of queueing the write on a worker thread, which saves a thread hand-off per item; a
    /// write that follows synchronous steps still runs on their worker. Writes of a sink that answers
    /// <see langword="false"/> always run on a worker thread. The answer must not change while the engine runs.
    /// </summary>
    /// <value><see langword="false"/> by default; a sink whose writes are known not to block overrides it.</value>
    public virtual bool IsNonBlocking => false;
}

/// <summary>
/// An output of a task. The engine awaits <see cref="WriteAsync"/> until the write is durable before the run's
/// input item is acknowledged: that is what makes delivery at-least-once.
/// </summary>
/// <remarks>
/// A sink that wraps another one (to observe, count or decorate its writes) should forward
/// <see cref="OutputSink.Validate"/>, <see cref="OutputSink.StartAsync"/>, <see cref="OutputSink.StopAsync"/>,
/// <see cref="OutputSink.IsTransient"/> and <see cref="OutputSink.IsNonBlocking"/> to the inner sink: the defaults
/// would hide its settings' checks, its lifecycle, its outage detection and its non-blocking writes.
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public abstract class OutputSink<T> : OutputSink
{
    /// <summary>Creates the sink.</summary>
    /// <param name="name">The sink's name.</param>
    protected OutputSink(string name)
        : base(name)
    {
    }

    /// <summary>Writes one item; completes when the item is durable.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Cancelled when the engine gives up on the run (at shutdown).</param>
    /// <returns>A task that completes when the write is durable.</returns>
    public abstract ValueTask WriteAsync(T item, CancellationToken cancellationToken);
}
