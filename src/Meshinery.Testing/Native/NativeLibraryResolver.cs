using System.Reflection;
using System.Runtime.InteropServices;
using Meshinery.Kafka.Native;

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
        // The clients' own choice (shared with Meshinery.Kafka): opening that file again returns the loaded instance.
        NativeClient.EnsureLoaded();
        if (NativeClient.LoadedFile is { } file && NativeLibrary.TryLoad(file, out var handle))
        {
            return handle;
        }

        // Where the platform cannot tell the file: default probing, then the Linux soname of a system installation.
        string[] names = OperatingSystem.IsLinux() ? [NativeMethods.LibraryName, "librdkafka.so.1"] : [NativeMethods.LibraryName];
        foreach (var name in names)
        {
            if (NativeLibrary.TryLoad(name, assembly, searchPath: null, out handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException(
            "Meshinery.Testing could not load librdkafka (the native library of Confluent.Kafka, shipped in the " +
            $"librdkafka.redist package). Tried: {NativeClient.LoadedFile ?? "(no file known)"}, {string.Join(", ", names)}.");
    }
}
