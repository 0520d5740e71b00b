using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>One fault-injection scenario: how its cluster looks, and what it does to the sample.</summary>
internal abstract class Scenario
{
    /// <summary>How long an instance may take to exit after its SIGTERM (drain, final commit, flush).</summary>
    protected static readonly TimeSpan ExitDeadline = TimeSpan.FromMinutes(2);

    /// <summary>How long the work may take in all.</summary>
    protected static readonly TimeSpan WorkDeadline = TimeSpan.FromMinutes(3);

    public abstract string Name { get; }

    public abstract string Description { get; }

    public virtual int Partitions => 8;

    public virtual int Brokers => 1;

    /// <summary>Soak scenarios run only when named.</summary>
    public virtual bool RunsByDefault => true;

    public abstract Task<ScenarioResult> RunAsync(ScenarioRun run);

    /// <summary>Outputs per second from the first output to now.</summary>
    protected static double ThroughputSoFar(ScenarioRun run) =>
        run.Watcher.Seen.FirstOrDefault() is { } first ? run.Watcher.Rate(first.At, run.Clock.Now) : 0;

    protected static double? Seconds(TimeSpan? to, TimeSpan from) => to is { } t ? Math.Round((t - from).TotalSeconds, 3) : null;
}
