using System.Collections.Concurrent;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>What a Kafka input committed, as it reports it (its <c>Committed</c> event, raised after each commit).</summary>
public static class CommitsOf
{
    /// <summary>Every offset the input commits for <paramref name="partition"/> from now on, in order.</summary>
    public static ConcurrentQueue<long> Record(KafkaInput<Order> input, int partition)
    {
        var commits = new ConcurrentQueue<long>();
        input.Committed += (_, committed) =>
        {
            foreach (var c in committed.Where(c => c.Partition.Value == partition))
            {
                commits.Enqueue(c.Offset.Value);
            }
        };
        return commits;
    }

    /// <summary>The input's last committed offset of <paramref name="partition"/>, 0 when none.</summary>
    public static long Last(KafkaInput<Order> input, int partition) =>
        input.CommittedOffsets.FirstOrDefault(c => c.Key.Partition.Value == partition).Value;
}
