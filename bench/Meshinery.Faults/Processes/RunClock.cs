using System.Diagnostics;

namespace Meshinery.Faults.Processes;

/// <summary>One clock per scenario run: every observation (a log line, an output, a fault) is stamped with it.</summary>
internal sealed class RunClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public TimeSpan Now => Stopwatch.GetElapsedTime(_start);
}
