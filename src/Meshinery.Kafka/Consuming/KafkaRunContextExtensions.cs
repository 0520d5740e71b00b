using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>Gives steps access to the Kafka message behind their run.</summary>
public static class KafkaRunContextExtensions
{
    /// <summary>
    /// The Kafka message the run's item was read from (key, headers, timestamp, topic, partition, offset), or
    /// <see langword="null"/> when the item did not come from a <see cref="KafkaInput{T}"/>.
    /// </summary>
    /// <param name="context">The run's context, usually <see cref="TaskRunContext.Current"/>.</param>
    /// <returns>The message as read, with its original bytes.</returns>
    public static ConsumeResult<byte[], byte[]>? KafkaMessage(this TaskRunContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.SourceRecord as ConsumeResult<byte[], byte[]>;
    }
}
