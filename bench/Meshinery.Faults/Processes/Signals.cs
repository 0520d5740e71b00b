using System.Runtime.InteropServices;

namespace Meshinery.Faults.Processes;

/// <summary>POSIX signals: <see cref="System.Diagnostics.Process.Kill()"/> sends only SIGKILL.</summary>
internal static partial class Signals
{
    private const int SigTerm = 15;

    /// <summary>Asks the process to stop as an orchestrator does (the sample's host then drains and commits).</summary>
    public static void Terminate(int processId)
    {
        if (kill(processId, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({processId}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
