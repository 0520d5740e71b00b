using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>The log messages of run scopes and per-task configuration (ids 40 and up, clear of the engine's own).</summary>
internal static partial class Log
{
    [LoggerMessage(40, LogLevel.Error, "Disposing the service scope of task '{TaskName}' run {RunId} ({Position}) threw; the run's outcome stands")]
    public static partial void ScopeDisposeFailed(ILogger logger, Exception exception, string taskName, long runId, SourcePosition position);

    [LoggerMessage(42, LogLevel.Debug, "Stopping waits for the service scope disposals of {Tasks} task(s)")]
    public static partial void WaitingForScopeDisposals(ILogger logger, int tasks);

    [LoggerMessage(41, LogLevel.Warning, "The service scope disposals of {Tasks} task(s) did not end within {GracePeriod} at stop")]
    public static partial void ScopeDisposalsStuck(ILogger logger, int tasks, TimeSpan gracePeriod);
}
