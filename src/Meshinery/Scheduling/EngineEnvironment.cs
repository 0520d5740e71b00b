using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// What every part of the engine may read and nothing more: the options, the clock, the meter and activity source,
/// the loggers, the token that gives up on runs at shutdown, and the identity of the run loop thread (for debug
/// assertions). Parts receive this instead of the object that owns the loops, so none of them can call back into it.
/// </summary>
internal sealed class EngineEnvironment(
    MeshineryOptions options,
    TimeProvider timeProvider,
    MeshineryDiagnostics diagnostics,
    ILoggerFactory loggerFactory,
    CancellationToken runsCancellation)
{
    public MeshineryOptions Options { get; } = options;

    public TimeProvider TimeProvider { get; } = timeProvider;

    public MeshineryDiagnostics Diagnostics { get; } = diagnostics;

    /// <summary>The engine's own messages (category <c>Meshinery</c>).</summary>
    public ILogger Logger { get; } = loggerFactory.CreateLogger("Meshinery");

    /// <summary>The logger whose scope each run opens (category <c>Meshinery.Run</c>).</summary>
    public ILogger RunLogger { get; } = loggerFactory.CreateLogger("Meshinery.Run");

    /// <summary>Cancelled when stopping gives up on the runs still in flight.</summary>
    public CancellationToken RunsCancellation { get; } = runsCancellation;

    /// <summary>The run loop's thread: state documented as "run loop thread only" asserts it in debug builds.</summary>
    public ThreadAffinity RunLoopThread { get; } = new("run loop");

    /// <summary>A <see cref="TimeProvider"/> timestamp <paramref name="delay"/> from now.</summary>
    public long TimestampAfter(TimeSpan delay) =>
        TimeProvider.GetTimestamp() + (long)(delay.TotalSeconds * TimeProvider.TimestampFrequency);
}
