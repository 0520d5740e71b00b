using System.Runtime.InteropServices;
using Confluent.Kafka;
using Meshinery.Kafka.Native;

namespace Meshinery.Kafka.Tests.Native;

/// <summary>
/// The native client is the redist's even with Debian's librdkafka-dev (2.0.2) installed. That package cannot be
/// installed from a test reliably (root and the Debian mirror); with it installed by hand these tests judge the real
/// system file too (see docs/configuration.md, "The native client").
/// </summary>
public class NativeClientTests
{
    private const string DebianSystemLibrary = "/lib/x86_64-linux-gnu/librdkafka.so.1";

    [Fact]
    public void EnsureLoaded_RedistBundled_LoadsItsFirstLoadableFileAndAVersionConfluentSupports()
    {
        NativeClient.EnsureLoaded();

        var confluent = typeof(Library).Assembly.GetName().Version!;
        var loaded = NativeClient.ToVersion(Library.Version);
        var bundled = NativeClient.Choose(NativeClient.BundledCandidates(AppContext.BaseDirectory), path => NativeLibrary.TryLoad(path, out _));
        if (bundled is null)
        {
            // The build's placeholder-feed fallback: no bundled file, Confluent.Kafka 1.9.3 runs on the system's.
            NativeClient.LoadedFile.Should().NotBeNull();
        }
        else
        {
            NativeClient.LoadedFile.Should().Be(bundled, "a system librdkafka on the library path must not be used instead");
        }

        NativeClient.Incompatibility(loaded, NativeClient.LoadedFile, confluent).Should().BeNull();
    }

    [Fact]
    public void Choose_FirstFileMissingOrNotLoadable_TakesTheNextThatLoads()
    {
        var directory = Directory.CreateTempSubdirectory("native-choice").FullName;
        var needsMissingLibrary = Path.Combine(directory, "librdkafka.so");
        var loads = Path.Combine(directory, "centos8-librdkafka.so");
        File.WriteAllText(needsMissingLibrary, string.Empty);
        File.WriteAllText(loads, string.Empty);
        string[] candidates = [Path.Combine(directory, "missing.so"), needsMissingLibrary, loads, Path.Combine(directory, "alpine-librdkafka.so")];

        NativeClient.Choose(candidates, path => path == loads).Should().Be(loads);
        NativeClient.Choose(candidates, _ => false).Should().BeNull();
    }

    [Fact]
    public void Incompatibility_LibraryOlderThanConfluentsLine_NamesVersionFileAndVersionNeeded()
    {
        var problem = NativeClient.Incompatibility(new Version(2, 0, 2), DebianSystemLibrary, new Version(2, 15, 1, 0));

        problem.Should().Contain("Confluent.Kafka 2.15.1 needs librdkafka 2.15.0 or later")
            .And.Contain($"librdkafka 2.0.2 was loaded from {DebianSystemLibrary}");
        NativeClient.Incompatibility(new Version(2, 0, 2), DebianSystemLibrary, new Version(1, 9, 3)).Should().BeNull("1.9.3 runs on 2.0.2");
        NativeClient.Incompatibility(new Version(2, 15, 1), "bundled", new Version(2, 15, 1)).Should().BeNull();
    }

    [Fact]
    public void Incompatibility_DebiansSystemLibrary_IsRefusedForThisConfluentVersion()
    {
        NativeClient.EnsureLoaded(); // first, so that the library judged below cannot become the clients' one
        if (!File.Exists(DebianSystemLibrary))
        {
            return; // nothing to judge: Debian's librdkafka1 is not installed on this machine
        }

        var version = SystemLibraryVersion(DebianSystemLibrary);
        var confluent = typeof(Library).Assembly.GetName().Version!;
        var problem = NativeClient.Incompatibility(version, DebianSystemLibrary, confluent);

        version.Should().Be(new Version(2, 0, 2), "Debian 12 ships librdkafka 2.0.2");
        if (confluent.Major >= 2)
        {
            problem.Should().Contain($"librdkafka 2.0.2 was loaded from {DebianSystemLibrary}");
        }
        else
        {
            problem.Should().BeNull("the placeholder-feed fallback runs Confluent.Kafka 1.9.3 on it");
        }
    }

    private static Version SystemLibraryVersion(string path)
    {
        var handle = NativeLibrary.Load(path);
        var rdKafkaVersion = Marshal.GetDelegateForFunctionPointer<VersionFunction>(NativeLibrary.GetExport(handle, "rd_kafka_version"));
        return NativeClient.ToVersion(rdKafkaVersion());
    }

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int VersionFunction();
}
