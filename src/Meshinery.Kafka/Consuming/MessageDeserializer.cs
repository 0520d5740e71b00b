using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Turns a message read into the engine's item: the value deserialized, or an unreadable item with the reason (the
/// task's error path gets the original bytes), with the trace context of its <c>traceparent</c> header.
/// </summary>
internal sealed class MessageDeserializer<T>(IDeserializer<T> deserializer)
{
    public SourceItem<T> ToItem(ConsumeResult<byte[], byte[]> result, IAcknowledger partition)
    {
        var position = new SourcePosition(result.Topic, result.Partition.Value, result.Offset.Value);
        try
        {
            var bytes = result.Message.Value;
            var value = deserializer.Deserialize(
                bytes, bytes is null, new SerializationContext(MessageComponentType.Value, result.Topic, result.Message.Headers));
            return new SourceItem<T>(value, position, partition, result) { ParentActivityContext = TraceParent(result), Key = result.Message.Key };
        }
        catch (Exception error)
        {
            return SourceItem.Unreadable<T>(error, position, partition, result) with { ParentActivityContext = TraceParent(result), Key = result.Message.Key };
        }
    }

    /// <summary>The W3C trace context in the message's <c>traceparent</c> header (as the Kafka outputs write it), if any.</summary>
    private static ActivityContext TraceParent(ConsumeResult<byte[], byte[]> result) =>
        result.Message.Headers is { } headers && headers.TryGetLastBytes("traceparent", out var bytes)
            && ActivityContext.TryParse(Encoding.ASCII.GetString(bytes), null, out var context)
            ? context
            : default;
}
