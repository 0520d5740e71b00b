using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>Commits offsets for an input, remembers what was committed last per partition and reports each commit.</summary>
internal sealed class OffsetCommitter(string input, ILogger logger, Action<IReadOnlyList<TopicPartitionOffset>> committed)
{
    private readonly ConcurrentDictionary<TopicPartition, long> _committed = new();

    /// <summary>The offsets committed last, per partition (the next offset to read).</summary>
    public IReadOnlyDictionary<TopicPartition, long> Last => new Dictionary<TopicPartition, long>(_committed);

    /// <summary>Commits <paramref name="offsets"/>; a failure that is not fatal is logged and returns false.</summary>
    public bool TryCommit(IConsumer<byte[], byte[]> consumer, List<TopicPartitionOffset> offsets)
    {
        try
        {
            consumer.Commit(offsets);
        }
        catch (KafkaException error) when (!error.Error.IsFatal)
        {
            KafkaLog.CommitFailed(logger, error, input);
            return false;
        }

        foreach (var offset in offsets)
        {
            _committed[offset.TopicPartition] = offset.Offset.Value;
        }

        committed(offsets);
        return true;
    }
}
