using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Meshinery.Testing.Native;

/// <summary>
/// The parts of librdkafka's C API (rdkafka.h and rdkafka_mock.h) the embedded cluster needs. Names match the C
/// functions. "librdkafka" is resolved by <see cref="NativeLibraryResolver"/> to the library Confluent.Kafka loaded.
/// </summary>
internal static partial class NativeMethods
{
    internal const string LibraryName = "librdkafka";

    /// <summary><c>RD_KAFKA_PRODUCER</c>: the cheapest client type to host a mock cluster.</summary>
    internal const int ProducerType = 0;

    /// <summary><c>RD_KAFKA_CONF_OK</c>.</summary>
    internal const int ConfOk = 0;

    [LibraryImport(LibraryName)]
    internal static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(LibraryName)]
    internal static partial void rd_kafka_conf_destroy(IntPtr conf);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static unsafe partial int rd_kafka_conf_set(IntPtr conf, string name, string value, byte* errstr, nuint errstrSize);

    [LibraryImport(LibraryName)]
    internal static unsafe partial IntPtr rd_kafka_new(int type, IntPtr conf, byte* errstr, nuint errstrSize);

    [LibraryImport(LibraryName)]
    internal static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(LibraryName)]
    internal static partial IntPtr rd_kafka_err2name(ErrorCode err);

    [LibraryImport(LibraryName)]
    internal static partial IntPtr rd_kafka_err2str(ErrorCode err);

    [LibraryImport(LibraryName)]
    internal static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(LibraryName)]
    internal static partial void rd_kafka_mock_cluster_destroy(IntPtr mcluster);

    [LibraryImport(LibraryName)]
    internal static partial IntPtr rd_kafka_mock_cluster_bootstraps(MockClusterHandle mcluster);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode rd_kafka_mock_topic_create(
        MockClusterHandle mcluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(LibraryName)]
    internal static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(MockClusterHandle mcluster, int delayMs);

    [LibraryImport(LibraryName)]
    internal static partial ErrorCode rd_kafka_mock_broker_set_down(MockClusterHandle mcluster, int brokerId);

    [LibraryImport(LibraryName)]
    internal static partial ErrorCode rd_kafka_mock_broker_set_up(MockClusterHandle mcluster, int brokerId);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode rd_kafka_mock_partition_set_leader(MockClusterHandle mcluster, string topic, int partition, int brokerId);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ErrorCode rd_kafka_mock_coordinator_set(MockClusterHandle mcluster, string keyType, string key, int brokerId);

    [LibraryImport(LibraryName)]
    internal static unsafe partial void rd_kafka_mock_push_request_errors_array(
        MockClusterHandle mcluster, short apiKey, nuint count, ErrorCode* errors);
}
