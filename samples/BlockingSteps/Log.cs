using Microsoft.Extensions.Logging;

namespace BlockingSteps;

/// <summary>The sample's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Legacy catalog {LegacySystem} answered after {LatencyMs} ms, blocking thread {Thread}")]
    public static partial void CatalogAnswered(ILogger logger, string? legacySystem, double latencyMs, string? thread);

    [LoggerMessage(2, LogLevel.Information, "Priced at {Total}; after the await the step continued on thread {Thread}")]
    public static partial void Priced(ILogger logger, decimal total, string? thread);

    [LoggerMessage(3, LogLevel.Information, "Shipping quoted {Cost} in a fork branch started on {StartedOn}, finished on {Thread}")]
    public static partial void ShippingQuoted(ILogger logger, decimal cost, string? startedOn, string? thread);
}
