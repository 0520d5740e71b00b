namespace Meshinery;

/// <summary>A validated, immutable task: what the scheduler runs.</summary>
internal sealed record TaskDefinition(
    string Name,
    Type InputType,
    IReadOnlyList<InputBinding> Inputs,
    Pipeline Root,
    int MaxInFlight,
    int? WorkerThreads,
    TaskData Data,
    RetryOptions Retry,
    Func<ProcessingFailure, ErrorDecision>? ErrorHandler,
    OutputSink<ProcessingFailure>? DeadLetterSink,
    TaskOrdering Ordering = TaskOrdering.Unordered,
    Func<TaskRun, object?>? OrderingKey = null,
    RateLimit? RateLimit = null,
    Func<TaskRun, bool>? PrioritySelector = null,
    int ReservedWorkers = 0,
    int? MaxWorkerThreads = null,
    TimeSpan? WorkerIdleTimeout = null,
    RunScopes? Scopes = null,
    RateLimit? StepRateLimit = null)
{
    /// <summary>The name of the pseudo-step a run fails in when its ordering key cannot be told.</summary>
    public const string OrderKeyStepName = "order-key";

    public const int DefaultMaxInFlight = 256;
}
