namespace Meshinery;

/// <summary>
/// The pseudo-step a run fails in before its first step: the item could not be read (<see cref="ProcessingFailure.ReadStepName"/>),
/// or the task could not tell its ordering key. It never executes and is never retried; an error handler's replacement
/// is a new input item, so the run then starts at the first step.
/// </summary>
internal sealed class StartFailureStep(string name, Type inputType, bool hasItem) : Step(name, inputType)
{
    /// <summary>Whether the run has an item to report (an unreadable one has none: its slot holds <c>default</c>).</summary>
    public bool HasItem { get; } = hasItem;

    public override bool IsProcessor => false;

    public override void Execute(TaskRun run) => throw new InvalidOperationException($"The '{Name}' pseudo-step never executes.");
}
