namespace Meshinery;

/// <summary>
/// An item whose processing failed: what the task's error handler receives and what its dead-letter output writes.
/// </summary>
public sealed class ProcessingFailure
{
    internal ProcessingFailure(
        string taskName,
        string stepName,
        object? item,
        Exception exception,
        int attempts,
        SourcePosition position,
        object? sourceRecord,
        DateTimeOffset failedAt)
    {
        TaskName = taskName;
        StepName = stepName;
        Item = item;
        Exception = exception;
        Attempts = attempts;
        Position = position;
        SourceRecord = sourceRecord;
        FailedAt = failedAt;
    }

    /// <summary>The step name used for items that could not be read (for example, not deserialized).</summary>
    public const string ReadStepName = "read";

    /// <summary>The task's name.</summary>
    public string TaskName { get; }

    /// <summary>The failed step's name, or <see cref="ReadStepName"/> when the item could not be read.</summary>
    public string StepName { get; }

    /// <summary>The value the failed step received (<see langword="null"/> when the item could not be read).</summary>
    public object? Item { get; }

    /// <summary>What the step threw.</summary>
    public Exception Exception { get; }

    /// <summary>How many times the step was tried.</summary>
    public int Attempts { get; }

    /// <summary>Where the run's input item came from.</summary>
    public SourcePosition Position { get; }

    /// <summary>The source's record of the run's input item (for Kafka, the original message), or <see langword="null"/>.</summary>
    public object? SourceRecord { get; }

    /// <summary>When the item was handed to the error path.</summary>
    public DateTimeOffset FailedAt { get; }

    /// <summary>A one-line description: task, step, position and the exception's message.</summary>
    /// <returns>The description.</returns>
    public override string ToString() =>
        $"Task '{TaskName}' step '{StepName}' failed for {Position} after {Attempts} attempt(s): {Exception.GetType().Name}: {Exception.Message}";
}
