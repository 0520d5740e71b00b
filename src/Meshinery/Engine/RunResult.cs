namespace Meshinery;

/// <summary>The result of a run started with <see cref="MeshineryEngine.InjectAsync{T}"/>.</summary>
/// <param name="Outcome">How the run ended.</param>
/// <param name="Output">The item as it left the last step (for a completed run), else the last value it had.</param>
/// <param name="Failure">Why the run failed, when <paramref name="Outcome"/> is <see cref="RunOutcome.Failed"/>.</param>
public sealed record RunResult(RunOutcome Outcome, object? Output, ProcessingFailure? Failure);
