using System.Globalization;

namespace Meshinery.Faults.Cluster;

/// <summary>The topics and group of one scenario run (fresh names, so runs never share data).</summary>
internal sealed record Topics(string Input, string Output, string DeadLetters, string GroupId, int Partitions)
{
    public static Topics For(string scenario, int partitions)
    {
        var suffix = DateTime.UtcNow.ToString("HHmmssfff", CultureInfo.InvariantCulture);
        return new Topics($"{scenario}-orders-{suffix}", $"{scenario}-enriched-{suffix}", $"{scenario}-dead-letters-{suffix}", $"{scenario}-group-{suffix}", partitions);
    }
}
