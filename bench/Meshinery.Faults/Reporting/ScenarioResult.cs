namespace Meshinery.Faults.Reporting;

/// <summary>How one instance ended: its exit code, or that the scenario killed it (or had to, at a deadline).</summary>
internal sealed record InstanceOutcome(string Name, int ProcessId, int? ExitCode, bool KilledByScenario, string? Summary);

/// <summary>What one scenario run measured. Times are seconds; <see cref="Recovery"/> names each measured interval.</summary>
internal sealed record ScenarioResult
{
    public required string Scenario { get; init; }

    public required string Description { get; init; }

    public required string Faults { get; init; }

    public required int Orders { get; init; }

    public required int Malformed { get; init; }

    public required int Partitions { get; init; }

    /// <summary>Orders without an output, plus malformed messages without a dead letter.</summary>
    public required int Lost { get; init; }

    /// <summary>Outputs beyond the first per order, plus dead letters beyond the first per malformed message.</summary>
    public required int Duplicates { get; init; }

    /// <summary>The bound docs/delivery-guarantees.md gives for this run's failures (0 when none redelivers).</summary>
    public required double DocumentedBound { get; init; }

    /// <summary>Issue 13's target: per redelivering failure, the in-flight limit plus 0.5 s of throughput.</summary>
    public required double Target { get; init; }

    /// <summary>Partitions whose committed offset is not the end offset after every instance exited.</summary>
    public required int UncommittedPartitions { get; init; }

    /// <summary>Offsets committed (when the fault struck) whose message had no output or dead letter: must be 0.</summary>
    public int? CommittedAheadOfOutputs { get; init; }

    public required double ThroughputPerSecond { get; init; }

    public required IReadOnlyDictionary<string, double?> Recovery { get; init; }

    public required IReadOnlyList<InstanceOutcome> Instances { get; init; }

    public required IReadOnlyDictionary<string, int> LogCounts { get; init; }

    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>The results this one combines (a scenario of several runs), or <see langword="null"/>.</summary>
    public IReadOnlyList<ScenarioResult>? Phases { get; init; }

    public required double ElapsedSeconds { get; init; }

    public required string LoadBefore { get; init; }

    public required string LoadAfter { get; init; }

    /// <summary>Nothing lost, everything committed, every instance not killed by the scenario exited 0, duplicates within the documented bound.</summary>
    public bool Passed => Lost == 0 && UncommittedPartitions == 0 && (CommittedAheadOfOutputs ?? 0) == 0
                          && Instances.All(i => i.KilledByScenario || i.ExitCode == 0) && Duplicates <= DocumentedBound;

    public bool WithinTarget => Duplicates <= Target;
}
