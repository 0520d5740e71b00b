using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.Testing;

/// <summary>
/// Runs your tasks in a test without Kafka: the engine built as an application builds it (<c>AddMeshinery</c> on a
/// service collection), with every log record collected (<see cref="Logs"/>, scopes included), its own
/// <see cref="IMeterFactory"/> (so a <c>MetricCollector</c> sees only this engine) and, optionally, a fake clock such as
/// <see cref="ManualTimeProvider"/>. Every wait gives up after <see cref="Deadline"/> with a <see cref="TimeoutException"/>
/// instead of hanging the test. Disposing it disposes the services, which stops the engine.
/// </summary>
/// <example>
/// <code>
/// await using var host = MeshineryTestHost.Create(mesh => mesh.AddTask&lt;Order&gt;("enrich", task =>
///     OrderTasks.Enrich(task, new InMemoryInput&lt;Order&gt;(), output)));
/// await host.StartAsync();
/// var result = await host.InjectAsync("enrich", new Order("1", "c-1", 10m));
/// Assert.Equal(RunOutcome.Completed, result.Outcome);
/// </code>
/// </example>
public sealed class MeshineryTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private MeshineryTestHost(ServiceProvider services) => _services = services;

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => _services;

    /// <summary>The engine; the first use creates it, which is when the tasks are validated.</summary>
    public MeshineryEngine Engine => _services.GetRequiredService<MeshineryEngine>();

    /// <summary>Every log record written through the application's logger factory (Debug and above).</summary>
    public FakeLogCollector Logs => _services.GetFakeLogCollector();

    /// <summary>The application's meter factory; the engine's <c>Meshinery</c> meter comes from it.</summary>
    public IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

    /// <summary>The engine's clock.</summary>
    public TimeProvider TimeProvider => _services.GetRequiredService<TimeProvider>();

    /// <summary>How long <see cref="StartAsync"/>, <see cref="StopAsync"/> and <see cref="InjectAsync{T}"/> wait (real time). Default: 30 s.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Builds the services and registers Meshinery with your tasks.</summary>
    /// <param name="configure">Adds tasks and configures the engine, as in <c>AddMeshinery</c>.</param>
    /// <param name="timeProvider">The engine's clock, for example a <see cref="ManualTimeProvider"/>. Default: the system clock.</param>
    /// <param name="services">Registers services your tasks resolve.</param>
    /// <returns>The host; dispose it at the end of the test.</returns>
    public static MeshineryTestHost Create(
        Action<MeshineryBuilder> configure,
        TimeProvider? timeProvider = null,
        Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug));
        collection.AddFakeLogging();
        collection.AddMetrics();
        if (timeProvider is not null)
        {
            collection.AddSingleton(timeProvider);
        }

        services?.Invoke(collection);
        collection.AddMeshinery(configure);
        return new MeshineryTestHost(collection.BuildServiceProvider());
    }

    /// <summary>Starts the engine.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the engine runs.</returns>
    /// <exception cref="TimeoutException">The engine did not start within <see cref="Deadline"/>.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default) =>
        Engine.StartAsync(cancellationToken).WaitAsync(Deadline, TimeProvider.System, cancellationToken);

    /// <summary>Stops the engine: drains the runs in flight, then stops the sources and sinks.</summary>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the engine has stopped.</returns>
    /// <exception cref="TimeoutException">The engine did not stop within <see cref="Deadline"/>.</exception>
    public Task StopAsync(CancellationToken cancellationToken = default) =>
        Engine.StopAsync(cancellationToken).WaitAsync(Deadline, TimeProvider.System, cancellationToken);

    /// <summary>Runs one item through a task (see <see cref="MeshineryEngine.InjectAsync{T}"/>) and returns how it ended.</summary>
    /// <typeparam name="T">The task's input type.</typeparam>
    /// <param name="taskName">The task.</param>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The run's outcome, its last step's output or its failure.</returns>
    /// <exception cref="TimeoutException">The run did not end within <see cref="Deadline"/>.</exception>
    public Task<RunResult> InjectAsync<T>(string taskName, T item, CancellationToken cancellationToken = default) =>
        Engine.InjectAsync(taskName, item, cancellationToken).AsTask().WaitAsync(Deadline, TimeProvider.System, cancellationToken);

    /// <summary>Disposes the services, which stops the engine.</summary>
    /// <returns>A task that completes when the engine has stopped and the services are disposed.</returns>
    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
