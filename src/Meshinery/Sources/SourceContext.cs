using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>What the engine gives an input source or output sink when it starts it.</summary>
public sealed class SourceContext
{
    private readonly Action _notifyItemsAvailable;
    private readonly Action<Exception> _reportFatalError;

    internal SourceContext(
        string taskName,
        IServiceProvider services,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        Action notifyItemsAvailable,
        Action<Exception> reportFatalError)
    {
        TaskName = taskName;
        Services = services;
        LoggerFactory = loggerFactory;
        TimeProvider = timeProvider;
        _notifyItemsAvailable = notifyItemsAvailable;
        _reportFatalError = reportFatalError;
    }

    /// <summary>The task that reads the source (for a sink shared by several tasks, the first of them).</summary>
    public string TaskName { get; }

    /// <summary>The application's services.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The logger factory the engine uses.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The clock the engine uses.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// Tells the engine that the source has items ready, so that its poll loop wakes up at once instead of at its
    /// next idle poll. Cheap and safe to call from any thread, as often as needed.
    /// </summary>
    public void NotifyItemsAvailable() => _notifyItemsAvailable();

    /// <summary>
    /// Reports an error the source cannot recover from (for example a fatal Kafka client error). The engine logs
    /// it, stops, and completes <see cref="MeshineryEngine.Completion"/> with it.
    /// </summary>
    /// <param name="error">The error.</param>
    public void ReportFatalError(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        _reportFatalError(error);
    }
}
