namespace Meshinery;

/// <summary>
/// Decides which of a task's runs are high priority (on the thread that starts the run): those read from an input
/// added with <see cref="TaskBuilder{TInput, T}.ReadPriorityFrom"/>, and those the task's selector
/// (<see cref="TaskBuilder{TInput, T}.WithPriority"/>) ranks high. A selector that throws sends the run to the error path
/// (step <c>priority</c>). High-priority runs go to the high lane of their worker pool, or to the task's reserved workers.
/// </summary>
internal sealed class PriorityPolicy(Func<TaskRun, bool>? isHigh, Step failureStep)
{
    public const string StepName = "priority";

    public static PriorityPolicy For(TaskDefinition definition) =>
        new(definition.PrioritySelector, new StartFailureStep(StepName, definition.InputType, hasItem: true));

    public void Assign(TaskRun run, bool fromPriorityInput)
    {
        if (fromPriorityInput)
        {
            run.IsHighPriority = true;
            return;
        }

        if (isHigh is null)
        {
            return;
        }

        try
        {
            run.IsHighPriority = isHigh(run);
        }
        catch (Exception error)
        {
            run.Fault(error, failureStep);
        }
    }
}
