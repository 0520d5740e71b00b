using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.TestSupport;

/// <summary>
/// An engine built the way an application builds it (<c>AddMeshinery</c> on a service collection), with a fake log
/// collector that records scopes, an <see cref="IMeterFactory"/> (so metric collectors see only this engine's meter)
/// and, optionally, a fake clock. Disposing it disposes the container, which stops the engine.
/// </summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private EngineHarness(ServiceProvider services) => Services = services;

    /// <summary>The application's services.</summary>
    public ServiceProvider Services { get; }

    /// <summary>The engine (created on first use, which is when task configurations are validated).</summary>
    public MeshineryEngine Engine => Services.GetRequiredService<MeshineryEngine>();

    /// <summary>Every log record written through the application's logger factory.</summary>
    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    /// <summary>The application's meter factory (the engine's meter comes from it).</summary>
    public IMeterFactory MeterFactory => Services.GetRequiredService<IMeterFactory>();

    /// <summary>Builds the services and registers Meshinery.</summary>
    /// <param name="configure">Adds tasks.</param>
    /// <param name="options">Configures the engine's options.</param>
    /// <param name="timeProvider">The clock; default: the system clock.</param>
    /// <param name="services">Registers more services.</param>
    /// <returns>The harness.</returns>
    public static EngineHarness Create(
        Action<MeshineryBuilder> configure,
        Action<MeshineryOptions>? options = null,
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

        collection.AddMeshinery(mesh =>
        {
            if (options is not null)
            {
                mesh.Configure(options);
            }

            configure(mesh);
        });
        services?.Invoke(collection);
        return new EngineHarness(collection.BuildServiceProvider());
    }

    /// <summary>Creates a logger from the application's logger factory.</summary>
    public ILogger CreateLogger(string category) => Services.GetRequiredService<ILoggerFactory>().CreateLogger(category);

    /// <summary>Starts the engine, with a deadline.</summary>
    public Task StartAsync() => Engine.StartAsync().Within("the engine to start");

    /// <summary>Stops the engine, with a deadline.</summary>
    public Task StopAsync() => Engine.StopAsync().Within("the engine to stop");

    /// <summary>The log records at <paramref name="level"/> or above.</summary>
    public IReadOnlyList<FakeLogRecord> LogsAtOrAbove(LogLevel level) =>
        [.. Logs.GetSnapshot().Where(r => r.Level >= level)];

    /// <inheritdoc/>
    public async ValueTask DisposeAsync() =>
        await Services.DisposeAsync().AsTask().Within("the service provider (and the engine) to dispose").ConfigureAwait(false);
}
