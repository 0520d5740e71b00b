using System.Diagnostics.Metrics;
using Meshinery.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Meshinery.TestSupport;

/// <summary>
/// The repository's tests' harness: the test kit's <see cref="MeshineryTestHost"/> (an engine built the way an
/// application builds it, with a fake log collector that records scopes, its own <see cref="IMeterFactory"/> and,
/// optionally, a fake clock) plus engine options and waits with this project's deadlines. Disposing it disposes the
/// container, which stops the engine.
/// </summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private readonly MeshineryTestHost _host;

    private EngineHarness(MeshineryTestHost host) => _host = host;

    /// <summary>The application's services.</summary>
    public IServiceProvider Services => _host.Services;

    /// <summary>The engine (created on first use, which is when task configurations are validated).</summary>
    public MeshineryEngine Engine => _host.Engine;

    /// <summary>Every log record written through the application's logger factory.</summary>
    public FakeLogCollector Logs => _host.Logs;

    /// <summary>The application's meter factory (the engine's meter comes from it).</summary>
    public IMeterFactory MeterFactory => _host.MeterFactory;

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
        return new EngineHarness(MeshineryTestHost.Create(
            mesh =>
            {
                if (options is not null)
                {
                    mesh.Configure(options);
                }

                configure(mesh);
            },
            timeProvider,
            services));
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
        await _host.DisposeAsync().AsTask().Within("the service provider (and the engine) to dispose").ConfigureAwait(false);
}
