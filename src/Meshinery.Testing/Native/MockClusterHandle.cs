using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Meshinery.Testing.Native;

/// <summary>
/// Owns a librdkafka mock cluster and the <c>rd_kafka_t</c> handle that hosts it. Being a <see cref="SafeHandle"/>,
/// it releases both exactly once, and native calls that take it keep it alive until they return, so a concurrent
/// dispose cannot free the cluster under a running call (the call fails with <see cref="ObjectDisposedException"/>
/// instead).
/// </summary>
internal sealed class MockClusterHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private const int ErrorBufferSize = 512;

    private static readonly (string Name, string Value)[] HostConfiguration =
    [
        ("client.id", "meshinery-embedded-kafka"),

        // The hosting handle never connects anywhere; at the default level (6) it reports a missing
        // bootstrap.servers on every start. Warnings and errors still get through.
        ("log_level", "4"),
    ];

    private readonly IntPtr client;

    private MockClusterHandle(IntPtr client, IntPtr cluster)
        : base(ownsHandle: true)
    {
        this.client = client;
        SetHandle(cluster);
    }

    /// <summary>Creates a mock cluster with <paramref name="brokerCount"/> brokers listening on loopback.</summary>
    internal static unsafe MockClusterHandle Create(int brokerCount)
    {
        NativeLibraryResolver.EnsureRegistered();

        var errors = stackalloc byte[ErrorBufferSize];
        var conf = NativeMethods.rd_kafka_conf_new();
        foreach (var (name, value) in HostConfiguration)
        {
            if (NativeMethods.rd_kafka_conf_set(conf, name, value, errors, ErrorBufferSize) != NativeMethods.ConfOk)
            {
                NativeMethods.rd_kafka_conf_destroy(conf);
                throw new InvalidOperationException($"Setting librdkafka property '{name}' failed: {ReadError(errors)}");
            }
        }

        // rd_kafka_new takes ownership of conf only when it succeeds.
        var client = NativeMethods.rd_kafka_new(NativeMethods.ProducerType, conf, errors, ErrorBufferSize);
        if (client == IntPtr.Zero)
        {
            NativeMethods.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException($"Creating the librdkafka handle for the mock cluster failed: {ReadError(errors)}");
        }

        var cluster = NativeMethods.rd_kafka_mock_cluster_new(client, brokerCount);
        if (cluster == IntPtr.Zero)
        {
            NativeMethods.rd_kafka_destroy(client);
            throw new InvalidOperationException(
                $"librdkafka could not create a mock cluster with {brokerCount} broker(s) (it needs a free loopback port per broker).");
        }

        return new MockClusterHandle(client, cluster);
    }

    /// <inheritdoc />
    protected override bool ReleaseHandle()
    {
        // The cluster first: it was created on the client handle and uses it until it is gone.
        NativeMethods.rd_kafka_mock_cluster_destroy(handle);
        if (client != IntPtr.Zero)
        {
            NativeMethods.rd_kafka_destroy(client);
        }

        return true;
    }

    private static unsafe string ReadError(byte* errors) =>
        Encoding.UTF8.GetString(MemoryMarshal.CreateReadOnlySpanFromNullTerminated(errors));
}
