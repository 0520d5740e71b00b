namespace Meshinery;

/// <summary>
/// Decides when a task's runs may start, so that runs that must not overlap wait for each other. The run starter asks
/// it for each run's key (<see cref="AssignKey"/>, on the thread that starts the run); the run loop asks it before a
/// run's first dispatch (<see cref="TryAdmit"/>) and tells it when a run ended (<see cref="Release"/>). A run that
/// waits keeps its in-flight slot, so the task's limits bound the waiting runs too.
/// </summary>
internal abstract class OrderingPolicy
{
    /// <summary>Every run may start at once.</summary>
    public static OrderingPolicy Unordered { get; } = new UnorderedPolicy();

    /// <summary>Creates the policy of a task.</summary>
    public static OrderingPolicy For(TaskDefinition definition, Step keyFailureStep) => definition.Ordering switch
    {
        TaskOrdering.Key => new KeyOrderingPolicy(definition.OrderingKey ?? SourceKey, keyFailureStep, definition.Name),
        TaskOrdering.Partition => new KeyOrderingPolicy(PartitionKey, keyFailureStep, definition.Name),
        _ => Unordered,
    };

    /// <summary>Sets the run's ordering key; a run whose key cannot be told takes the error path (starting thread).</summary>
    public abstract void AssignKey(TaskRun run);

    /// <summary>
    /// Whether the run may start now (run loop thread). When not, the policy keeps it and hands it back from
    /// <see cref="Release"/> once the run before it has ended.
    /// </summary>
    public abstract bool TryAdmit(TaskRun run);

    /// <summary>The run ended (run loop thread): returns the run that may start now in its place, or <see langword="null"/>.</summary>
    public abstract TaskRun? Release(TaskRun run);

    private static object? SourceKey(TaskRun run) =>
        run.Context.Key ?? throw new InvalidOperationException(
            $"the item has no key, so task '{run.TaskName}' (ordering by the source's key) cannot tell what to keep it in order with; give OrderByKey a selector, or key the messages");

    private static object? PartitionKey(TaskRun run) => (run.Position.Source, run.Position.Partition);

    private sealed class UnorderedPolicy : OrderingPolicy
    {
        public override void AssignKey(TaskRun run)
        {
        }

        public override bool TryAdmit(TaskRun run) => true;

        public override TaskRun? Release(TaskRun run) => null;
    }
}
