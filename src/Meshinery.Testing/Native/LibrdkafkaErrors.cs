using System.Runtime.InteropServices;
using Confluent.Kafka;

namespace Meshinery.Testing.Native;

/// <summary>Turns librdkafka error codes into exceptions that carry librdkafka's own name for the error.</summary>
internal static class LibrdkafkaErrors
{
    /// <summary>The librdkafka name of <paramref name="code"/>, e.g. <c>TOPIC_ALREADY_EXISTS</c>.</summary>
    internal static string Name(ErrorCode code)
    {
        NativeLibraryResolver.EnsureRegistered();
        return Marshal.PtrToStringUTF8(NativeMethods.rd_kafka_err2name(code)) ?? ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A <see cref="KafkaException"/> whose <see cref="KafkaException.Error"/> has <paramref name="code"/> and whose
    /// message starts with <paramref name="operation"/> and names the error, e.g.
    /// "Creating topic 'orders' failed: TOPIC_ALREADY_EXISTS (Broker: Topic already exists)".
    /// </summary>
    internal static KafkaException ToException(ErrorCode code, string operation)
    {
        NativeLibraryResolver.EnsureRegistered();
        var description = Marshal.PtrToStringUTF8(NativeMethods.rd_kafka_err2str(code));
        return new KafkaException(new Error(code, $"{operation} failed: {Name(code)} ({description})"));
    }
}
