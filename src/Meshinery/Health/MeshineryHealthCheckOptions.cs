namespace Meshinery;

/// <summary>
/// Thresholds of the Meshinery health check (<see cref="MeshineryHealthChecksBuilderExtensions.AddMeshinery"/>). They
/// apply to inputs that implement <see cref="IReportInputHealth"/>; the engine's own state is always checked. Each
/// must be greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/> (a time) or <see langword="null"/> (the lag)
/// to switch the rule off; anything else fails when the application starts.
/// </summary>
public sealed class MeshineryHealthCheckOptions
{
    /// <summary>How long an input may hold no partitions before it is reported degraded. Default: 2 minutes.</summary>
    /// <value>A time greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/> to switch the rule off.</value>
    public TimeSpan NoPartitionsTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long an input with a lag greater than 0 may make no progress before it is reported degraded. An idle input
    /// (lag 0) and one that does not know its lag are never reported stalled. Default: 5 minutes.
    /// </summary>
    /// <value>A time greater than zero, or <see cref="Timeout.InfiniteTimeSpan"/> to switch the rule off.</value>
    public TimeSpan NoProgressTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The lag above which an input is reported degraded. Default: <see langword="null"/> (no lag limit).</summary>
    /// <value>A number greater than zero, or <see langword="null"/>.</value>
    public long? MaxLag { get; set; }
}
