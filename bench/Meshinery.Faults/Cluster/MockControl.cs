using System.Reflection;
using System.Runtime.InteropServices;
using Confluent.Kafka;
using Meshinery.Testing;

namespace Meshinery.Faults.Cluster;

/// <summary>
/// The mock-cluster controls <see cref="EmbeddedKafkaCluster"/> does not expose: which broker leads a partition and
/// which broker coordinates a group. The dead-letter scenario needs them to make one topic unavailable while the rest
/// of the cluster works.
/// </summary>
/// <remarks>
/// Meshinery.Testing keeps its native cluster handle private, so this reads it by reflection (a measurement tool may;
/// the library's users should not): if Meshinery.Testing grows such methods, use them instead. "librdkafka" resolves to
/// the library Confluent.Kafka already loaded, so both act on the same native instance.
/// </remarks>
internal static partial class MockControl
{
    private const string Library = "librdkafka";

    static MockControl()
    {
        NativeLibrary.SetDllImportResolver(typeof(MockControl).Assembly, (name, assembly, _) =>
            name == Library ? LoadSameLibrdkafka(assembly) : IntPtr.Zero);
    }

    public static void SetPartitionLeader(EmbeddedKafkaCluster cluster, string topic, int partition, int brokerId) =>
        Check(rd_kafka_mock_partition_set_leader(Handle(cluster), topic, partition, brokerId), $"leader of {topic}[{partition}] -> broker {brokerId}");

    public static void SetGroupCoordinator(EmbeddedKafkaCluster cluster, string groupId, int brokerId) =>
        Check(rd_kafka_mock_coordinator_set(Handle(cluster), "group", groupId, brokerId), $"coordinator of group {groupId} -> broker {brokerId}");

    private static IntPtr Handle(EmbeddedKafkaCluster cluster)
    {
        var field = typeof(EmbeddedKafkaCluster).GetField("handle", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("EmbeddedKafkaCluster has no private 'handle' field any more; update MockControl.");
        var handle = (SafeHandle)(field.GetValue(cluster) ?? throw new InvalidOperationException("The cluster has no handle."));
        return handle.DangerousGetHandle(); // the cluster outlives every call: the scenario disposes it last
    }

    private static void Check(ErrorCode error, string what)
    {
        if (error != ErrorCode.NoError)
        {
            throw new InvalidOperationException($"Setting the {what} failed: {error}.");
        }
    }

    private static IntPtr LoadSameLibrdkafka(Assembly assembly)
    {
        _ = Confluent.Kafka.Library.Version; // Confluent.Kafka loads its library first; loading that file again returns it
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native");
        foreach (var file in new[] { "librdkafka.so", "centos8-librdkafka.so" })
        {
            if (NativeLibrary.TryLoad(Path.Combine(native, file), out var handle))
            {
                return handle;
            }
        }

        return NativeLibrary.Load(Library, assembly, null);
    }

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial ErrorCode rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial ErrorCode rd_kafka_mock_coordinator_set(IntPtr mcluster, string keyType, string key, int brokerId);
}
