using Microsoft.Extensions.Logging;

namespace Meshinery.Tests;

/// <summary>The log messages tests write from inside steps (to check the scopes the engine gives them).</summary>
internal static partial class TestLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "{Step} saw {Item}")]
    public static partial void StepSaw(ILogger logger, string step, int item);
}
