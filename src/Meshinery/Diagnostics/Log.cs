using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>Every log message of the core, in one place.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Meshinery started {TaskCount} task(s) with {WorkerThreads} shared worker thread(s)")]
    public static partial void EngineStarted(ILogger logger, int taskCount, int workerThreads);

    [LoggerMessage(2, LogLevel.Information, "Meshinery is stopping: polling stopped, draining {InFlight} run(s) in flight")]
    public static partial void EngineStopping(ILogger logger, int inFlight);

    [LoggerMessage(3, LogLevel.Information, "Meshinery stopped")]
    public static partial void EngineStopped(ILogger logger);

    [LoggerMessage(4, LogLevel.Warning, "{InFlight} run(s) still in flight at the end of the drain (drain timeout {DrainTimeout}, or the host's shutdown timeout came first); cancelling them")]
    public static partial void DrainTimedOut(ILogger logger, int inFlight, TimeSpan drainTimeout);

    [LoggerMessage(5, LogLevel.Warning, "{InFlight} run(s) did not end within {GracePeriod} after cancellation (a step ignores its cancellation token); their items are not acknowledged")]
    public static partial void RunsStuck(ILogger logger, int inFlight, TimeSpan gracePeriod);

    [LoggerMessage(6, LogLevel.Warning, "Polling input '{Source}' of task '{TaskName}' failed ({Failures} in a row); retrying in {Delay}")]
    public static partial void PollFailed(ILogger logger, Exception exception, string source, string taskName, int failures, TimeSpan delay);

    [LoggerMessage(7, LogLevel.Warning, "Task '{TaskName}' step '{StepName}' failed at {Position} (attempt {Attempt}); retrying in {Delay}")]
    public static partial void StepRetrying(ILogger logger, Exception exception, string taskName, string stepName, SourcePosition position, int attempt, TimeSpan delay);

    [LoggerMessage(18, LogLevel.Debug, "Task '{TaskName}' step '{StepName}' failed again at {Position} (attempt {Attempt}); retrying in {Delay}")]
    public static partial void StepRetryingAgain(ILogger logger, Exception exception, string taskName, string stepName, SourcePosition position, int attempt, TimeSpan delay);

    [LoggerMessage(8, LogLevel.Error, "{Failure}")]
    public static partial void RunFailed(ILogger logger, Exception exception, ProcessingFailure failure);

    [LoggerMessage(9, LogLevel.Error, "The error handler of task '{TaskName}' threw for {Position}; the item is dead-lettered")]
    public static partial void ErrorHandlerFailed(ILogger logger, Exception exception, string taskName, SourcePosition position);

    [LoggerMessage(10, LogLevel.Error, "The error handler of task '{TaskName}' returned a replacement of type {ActualType} for step '{StepName}', which needs {ExpectedType}; the item is dead-lettered")]
    public static partial void ReplacementTypeMismatch(ILogger logger, string taskName, string stepName, string actualType, string expectedType);

    [LoggerMessage(11, LogLevel.Error, "Writing the dead letter of task '{TaskName}' for {Position} failed permanently; the failure is only logged: {Failure}")]
    public static partial void DeadLetterFailed(ILogger logger, Exception exception, string taskName, SourcePosition position, ProcessingFailure failure);

    [LoggerMessage(12, LogLevel.Error, "Acknowledging {Position} of task '{TaskName}' threw")]
    public static partial void AcknowledgeFailed(ILogger logger, Exception exception, string taskName, SourcePosition position);

    [LoggerMessage(13, LogLevel.Critical, "Meshinery stops after a fatal error")]
    public static partial void FatalError(ILogger logger, Exception exception);

    [LoggerMessage(14, LogLevel.Error, "Stopping '{Name}' failed")]
    public static partial void StopFailed(ILogger logger, Exception exception, string name);

    [LoggerMessage(15, LogLevel.Information, "Batch mode: every input is drained and nothing is in flight; stopping")]
    public static partial void BatchDrained(ILogger logger);

    [LoggerMessage(17, LogLevel.Error, "Deciding whether the failure of step '{StepName}' is transient threw; it is treated as permanent")]
    public static partial void TransientCheckFailed(ILogger logger, Exception exception, string stepName);

    [LoggerMessage(16, LogLevel.Error, "The {Loop} loop failed unexpectedly; the engine stops")]
    public static partial void LoopFailed(ILogger logger, Exception exception, string loop);
}
