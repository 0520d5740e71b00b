using System.Reflection;
using System.Runtime.InteropServices;

namespace Meshinery.Testing.Native;

/// <summary>
/// Resolves <see cref="NativeMethods.LibraryName"/> for this assembly to the same librdkafka Confluent.Kafka uses,
/// so the mock cluster and the clients share one native instance instead of loading a second copy.
/// </summary>
internal static class NativeLibraryResolver
{
    private static readonly Lock Gate = new();
    private static bool registered;
    private static IntPtr loadedHandle;

    /// <summary>Registers the resolver once. Must run before the first call into <see cref="NativeMethods"/>.</summary>
    internal static void EnsureRegistered()
    {
        lock (Gate)
        {
            if (registered)
            {
                return;
            }

            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
            registered = true;
        }
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!string.Equals(libraryName, NativeMethods.LibraryName, StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }

        lock (Gate)
        {
            if (loadedHandle == IntPtr.Zero)
            {
                loadedHandle = Load(assembly);
            }

            return loadedHandle;
        }
    }

    private static IntPtr Load(Assembly assembly)
    {
        // Let Confluent.Kafka pick and load its library first: opening that file again returns the instance that is
        // already loaded, so following its probing order below ends at the very same library.
        Exception? confluentFailure = null;
        try
        {
            _ = Confluent.Kafka.Library.Version;
        }
        catch (Exception ex) when (ex is DllNotFoundException or InvalidOperationException or FileLoadException
                                       or TypeInitializationException or EntryPointNotFoundException)
        {
            confluentFailure = ex;
        }

        var tried = new List<string>();
        foreach (var path in CandidatePaths())
        {
            tried.Add(path);
            if (File.Exists(path) && NativeLibrary.TryLoad(path, out var handle))
            {
                return handle;
            }
        }

        foreach (var name in CandidateNames())
        {
            tried.Add(name);
            if (NativeLibrary.TryLoad(name, assembly, searchPath: null, out var handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException(
            "Meshinery.Testing could not load librdkafka (the native library of Confluent.Kafka, shipped in the " +
            $"librdkafka.redist package). Tried: {string.Join(", ", tried)}.",
            confluentFailure);
    }

    private static IEnumerable<string> CandidatePaths()
    {
        var baseDirectory = AppContext.BaseDirectory;
        var rid = RuntimeIdentifier();
        var directories = rid is null
            ? [baseDirectory]
            // A RID-specific publish copies the native files next to the application instead.
            : new[] { Path.Combine(baseDirectory, "runtimes", rid, "native"), baseDirectory };

        foreach (var directory in directories)
        {
            foreach (var file in FileNames())
            {
                yield return Path.Combine(directory, file);
            }
        }
    }

    // Confluent.Kafka's order: the regular build first, then the variants that link fewer system libraries.
    private static string[] FileNames() =>
        OperatingSystem.IsWindows() ? ["librdkafka.dll"]
        : OperatingSystem.IsMacOS() ? ["librdkafka.dylib"]
        : ["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so"];

    // Default probing (deps.json native assets, application folder, system paths), then the Linux soname of a
    // system-wide installation without the -dev package.
    private static string[] CandidateNames() =>
        OperatingSystem.IsLinux() ? [NativeMethods.LibraryName, "librdkafka.so.1"] : [NativeMethods.LibraryName];

    private static string? RuntimeIdentifier()
    {
        var architecture = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64",
            Architecture.X86 => "x86",
            Architecture.Arm64 => "arm64",
            Architecture.Arm => "arm",
            Architecture.S390x => "s390x",
            _ => null,
        };
        var os = OperatingSystem.IsWindows() ? "win"
            : OperatingSystem.IsMacOS() ? "osx"
            : OperatingSystem.IsLinux() ? "linux"
            : null;
        return architecture is null || os is null ? null : $"{os}-{architecture}";
    }
}
