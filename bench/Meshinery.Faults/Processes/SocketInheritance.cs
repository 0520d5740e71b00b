using System.Runtime.InteropServices;

namespace Meshinery.Faults.Processes;

/// <summary>
/// Keeps child processes from inheriting this process's sockets. librdkafka's mock broker (hosted here) accepts its
/// connections without close-on-exec, so every instance started after a client connected holds a copy of the broker's
/// end of that connection. Setting a broker down then closes only the broker's copy: the client is never disconnected,
/// its requests in flight go unanswered until <c>socket.timeout.ms</c> (60 s), and the tool's own seeder and watcher
/// stalled exactly that long after every outage (docs/reliability.md). Marking every socket close-on-exec before each
/// start ends it; .NET's own sockets and librdkafka's client sockets are close-on-exec already.
/// </summary>
internal static partial class SocketInheritance
{
    private const int SetDescriptorFlags = 2; // F_SETFD
    private const int GetDescriptorFlags = 1; // F_GETFD
    private const int CloseOnExec = 1; // FD_CLOEXEC

    /// <summary>Marks every open socket of this process close-on-exec; returns how many were not yet.</summary>
    public static int MarkSocketsCloseOnExec()
    {
        var marked = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var fd) || fd < 3)
            {
                continue;
            }

            string? target;
            try
            {
                target = File.ResolveLinkTarget(entry, returnFinalTarget: false)?.Name;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            if (target is null || !target.StartsWith("socket:", StringComparison.Ordinal))
            {
                continue;
            }

            var flags = fcntl(fd, GetDescriptorFlags, 0);
            if (flags >= 0 && (flags & CloseOnExec) == 0 && fcntl(fd, SetDescriptorFlags, flags | CloseOnExec) == 0)
            {
                marked++;
            }
        }

        return marked;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);
}
