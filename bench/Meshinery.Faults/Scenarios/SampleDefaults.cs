namespace Meshinery.Faults.Scenarios;

/// <summary>The sample's and the library's defaults the bounds are computed from (samples/OrderEnrichment/README.md, docs/delivery-guarantees.md).</summary>
internal static class SampleDefaults
{
    public const int MaxInFlight = 200;
    public const double CommitIntervalSeconds = 0.2; // KafkaOptions.CommitInterval's default since issue 13
    public const int MaxPendingPerPartition = 10_000;
}
