using System.Globalization;
using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Meshinery.Kafka.Native;

/// <summary>
/// Makes Confluent.Kafka run on the librdkafka of the <c>librdkafka.redist</c> package the application references,
/// even where a system librdkafka is on the library path, and refuses one that is too old with a clear message.
/// </summary>
/// <remarks>
/// Left to itself, Confluent.Kafka tries the redist's primary file, and where that one cannot load (on Debian 12 it
/// needs <c>libsasl2.so.3</c>) it asks the system loader for "librdkafka", which finds a system installation (Debian's
/// <c>librdkafka-dev</c>, 2.0.2) before the redist's own <c>centos8-librdkafka.so</c>. Its first consume then fails with
/// an <see cref="EntryPointNotFoundException"/>. So before the first client is built, Confluent.Kafka's native imports
/// are resolved to the first bundled file that the system loader accepts. Where none is bundled (the build's
/// placeholder-feed fallback runs Confluent.Kafka 1.9.3 on the system's librdkafka) Confluent.Kafka's own search runs.
/// This file is also compiled into Meshinery.Testing, so that its mock cluster uses the very same library.
/// </remarks>
internal static class NativeClient
{
    private static readonly Lock Gate = new();
    private static bool loaded;
    private static Exception? failure;

    /// <summary>The file librdkafka was loaded from, once loaded (<see langword="null"/> where the platform cannot tell).</summary>
    public static string? LoadedFile { get; private set; }

    /// <summary>
    /// Loads librdkafka once per process; later calls return at once (or throw the first call's error again).
    /// </summary>
    /// <exception cref="InvalidOperationException">The librdkafka loaded is older than the Confluent.Kafka in use needs.</exception>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (!loaded)
            {
                try
                {
                    Load();
                }
                catch (Exception error) when (error is InvalidOperationException or DllNotFoundException)
                {
                    failure = error;
                }

                loaded = true;
            }

            if (failure is not null)
            {
                throw failure;
            }
        }
    }

    /// <summary>
    /// The first of <paramref name="candidates"/> that exists and that <paramref name="tryLoad"/> accepts (the system
    /// loader finds every library it links), or <see langword="null"/>.
    /// </summary>
    internal static string? Choose(IEnumerable<string> candidates, Func<string, bool> tryLoad) =>
        candidates.FirstOrDefault(path => File.Exists(path) && tryLoad(path));

    /// <summary>The redist's files for this platform, in Confluent.Kafka's order (regular build first).</summary>
    internal static IEnumerable<string> BundledCandidates(string baseDirectory)
    {
        var rid = RuntimeIdentifier();
        // A RID-specific publish copies the native files next to the application instead.
        var directories = rid is null ? [baseDirectory] : new[] { Path.Combine(baseDirectory, "runtimes", rid, "native"), baseDirectory };
        string[] files = OperatingSystem.IsWindows() ? ["librdkafka.dll"]
            : OperatingSystem.IsMacOS() ? ["librdkafka.dylib"]
            : ["librdkafka.so", "centos8-librdkafka.so", "alpine-librdkafka.so"];
        return directories.SelectMany(directory => files.Select(file => Path.Combine(directory, file)));
    }

    /// <summary>
    /// The problem with running Confluent.Kafka <paramref name="confluent"/> on librdkafka <paramref name="found"/>
    /// loaded from <paramref name="file"/>, or <see langword="null"/> when it is recent enough. Confluent.Kafka releases
    /// go with the librdkafka of the same major and minor version and call its newer functions.
    /// </summary>
    internal static string? Incompatibility(Version found, string? file, Version confluent)
    {
        var needed = new Version(confluent.Major, confluent.Minor, 0);
        return found >= needed
            ? null
            : string.Create(
                CultureInfo.InvariantCulture,
                $"Confluent.Kafka {confluent.ToString(3)} needs librdkafka {needed.ToString(3)} or later, but librdkafka {found.ToString(3)} was loaded from {file ?? "an unknown file"}. The librdkafka.redist package's own files are missing or cannot load here; publish with them (they are under runtimes/<rid>/native), or remove the older system librdkafka (on Debian: apt-get remove librdkafka-dev).");
    }

    /// <summary>librdkafka's version number (<c>0xMMmmrrpp</c>) as a <see cref="Version"/>.</summary>
    internal static Version ToVersion(int number) => new((number >> 24) & 0xff, (number >> 16) & 0xff, (number >> 8) & 0xff);

    private static void Load()
    {
        var bundled = Choose(BundledCandidates(AppContext.BaseDirectory), path => NativeLibrary.TryLoad(path, out _));
        var resolved = false;
        if (bundled is not null)
        {
            // Confluent.Kafka's DllImports ("librdkafka", "centos8-librdkafka", "alpine-librdkafka") bind to the chosen
            // file. Not Library.Load: on glibc 2.34+ it fails to find "libdl". A resolver set by the application before
            // (one per assembly) wins; the check below judges what it loads.
            var handle = NativeLibrary.Load(bundled);
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(Library).Assembly, (name, _, _) =>
                {
                    if (!name.EndsWith("librdkafka", StringComparison.Ordinal))
                    {
                        return IntPtr.Zero;
                    }

                    resolved = true;
                    return handle;
                });
            }
            catch (InvalidOperationException)
            {
            }
        }

        var found = ToVersion(Library.Version);
        LoadedFile = resolved ? bundled : MappedLibrdkafka();
        if (Incompatibility(found, LoadedFile, typeof(Library).Assembly.GetName().Version ?? new Version(0, 0)) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    /// <summary>On Linux, the librdkafka file mapped into the process (what Confluent.Kafka really loaded).</summary>
    private static string? MappedLibrdkafka()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            return File.ReadLines("/proc/self/maps")
                .Select(line => line.IndexOf('/', StringComparison.Ordinal) is var at and >= 0 ? line[at..] : null)
                .FirstOrDefault(path => path is not null && Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal)
                    && !Path.GetFileName(path).Contains("++", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return null;
        }
    }

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
