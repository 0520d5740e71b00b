using System.Buffers.Binary;
using System.Diagnostics;
using Confluent.Kafka;

namespace Meshinery.Scenarios.Messages;

/// <summary>
/// One message on its way through a system. The input value is <see cref="InputSize"/> bytes: the sequence number and
/// the <see cref="Stopwatch"/> timestamp at which the seeder produced it, then padding. Every system turns it into the
/// same output value: the input value, the time the system read it and the time it produced the output.
/// </summary>
/// <remarks>
/// <see cref="Stopwatch"/> timestamps come from the monotonic clock (<c>CLOCK_MONOTONIC</c> on Linux), which every
/// process on the machine shares, so stamps taken by the seeder, a system's child process and the reader compare.
/// </remarks>
internal sealed class BenchMessage(byte[] input, long readStamp)
{
    public const int InputSize = 100;
    public const int OutputSize = InputSize + 16;

    /// <summary>The input value as read.</summary>
    public byte[] Input { get; } = input;

    /// <summary>When the system read the message (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public long ReadStamp { get; } = readStamp;

    public static byte[] CreateInput(long sequence, long producedStamp)
    {
        var value = new byte[InputSize];
        BinaryPrimitives.WriteInt64LittleEndian(value, sequence);
        BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(8), producedStamp);
        return value;
    }

    /// <summary>The sequence number of an input value.</summary>
    public static long Sequence(ReadOnlySpan<byte> input) => BinaryPrimitives.ReadInt64LittleEndian(input);

    /// <summary>The output value: input, read stamp, and the time of this call (when the output is produced).</summary>
    public byte[] ToOutput()
    {
        var value = new byte[OutputSize];
        Input.AsSpan(0, Math.Min(Input.Length, InputSize)).CopyTo(value);
        BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(InputSize), ReadStamp);
        BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(InputSize + 8), Stopwatch.GetTimestamp());
        return value;
    }

    /// <summary>Reads an output value back: sequence, produced, read and output stamps.</summary>
    public static bool TryDecodeOutput(ReadOnlySpan<byte> value, out OutputRecord record)
    {
        if (value.Length != OutputSize)
        {
            record = default;
            return false;
        }

        record = new OutputRecord(
            BinaryPrimitives.ReadInt64LittleEndian(value),
            BinaryPrimitives.ReadInt64LittleEndian(value[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(value[InputSize..]),
            BinaryPrimitives.ReadInt64LittleEndian(value[(InputSize + 8)..]));
        return true;
    }
}

/// <summary>What one output message says about its input.</summary>
internal readonly record struct OutputRecord(long Sequence, long ProducedStamp, long ReadStamp, long OutputStamp);

/// <summary>
/// The deserializer every system uses (Meshinery through <c>KafkaInputOptions.Deserializer</c>, the baselines by
/// calling it): it stamps the read time and tells the probe that reading has started.
/// </summary>
internal sealed class BenchMessageDeserializer(Measurement.RunProbe probe) : IDeserializer<BenchMessage>
{
    public BenchMessage Deserialize(ReadOnlySpan<byte> data, bool isNull, SerializationContext context)
    {
        var stamp = Stopwatch.GetTimestamp();
        probe.MarkRead(stamp);
        return new BenchMessage(data.ToArray(), stamp);
    }
}

/// <summary>The serializer every system uses for its output.</summary>
internal sealed class BenchMessageSerializer : ISerializer<BenchMessage>
{
    public static readonly BenchMessageSerializer Instance = new();

    public byte[] Serialize(BenchMessage data, SerializationContext context) => data.ToOutput();
}
