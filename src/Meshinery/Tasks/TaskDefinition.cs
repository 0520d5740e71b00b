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
    OutputSink<ProcessingFailure>? DeadLetterSink)
{
    public const int DefaultMaxInFlight = 256;
}
