using System.Diagnostics;

namespace Meshinery;

/// <summary>One item read from an input source, with what the engine needs to acknowledge it.</summary>
/// <typeparam name="T">The item type.</typeparam>
public readonly struct SourceItem<T>
{
    /// <summary>Creates an item that was read successfully.</summary>
    /// <param name="value">The item.</param>
    /// <param name="position">Where the item came from.</param>
    /// <param name="acknowledger">Receives the item's acknowledgement; <see langword="null"/> when the source needs none.</param>
    /// <param name="sourceRecord">The source's record of the item (for Kafka, the message with its original bytes), kept for dead letters.</param>
    public SourceItem(T value, SourcePosition position, IAcknowledger? acknowledger = null, object? sourceRecord = null)
    {
        Value = value;
        Position = position;
        Acknowledger = acknowledger;
        SourceRecord = sourceRecord;
    }

    /// <summary>The item; the default value when <see cref="ReadError"/> is set.</summary>
    public T Value { get; }

    /// <summary>Where the item came from.</summary>
    public SourcePosition Position { get; }

    /// <summary>Receives the item's acknowledgement, or <see langword="null"/>.</summary>
    public IAcknowledger? Acknowledger { get; }

    /// <summary>
    /// The source's record of the item, or <see langword="null"/>: for Kafka, the <c>ConsumeResult&lt;byte[], byte[]&gt;</c>.
    /// Steps see it as <see cref="TaskRunContext.SourceRecord"/>, the error path as <see cref="ProcessingFailure.SourceRecord"/>.
    /// </summary>
    public object? SourceRecord { get; }

    /// <summary>
    /// The trace context the item carries (for Kafka, its <c>traceparent</c> header), or <see langword="default"/>.
    /// The run's activity becomes its child, so a trace continues across the queue.
    /// </summary>
    public ActivityContext ParentActivityContext { get; init; }

    /// <summary>
    /// The item's key, or <see langword="null"/>: for Kafka, the message key's bytes (a <c>byte[]</c>, compared
    /// by content). The run carries it (<see cref="TaskRunContext.Key"/>), and a task ordered with
    /// <see cref="TaskBuilder{TInput, T}.OrderByKey()"/> keeps the items of one key in order by it.
    /// </summary>
    public object? Key { get; init; }

    /// <summary>Why the item could not be read, or <see langword="null"/> when it was read successfully.</summary>
    public Exception? ReadError { get; internal init; }
}

/// <summary>Creates <see cref="SourceItem{T}"/> values that need a type argument spelled out.</summary>
public static class SourceItem
{
    /// <summary>
    /// Creates an item that could not be read (for example, it could not be deserialized). The engine hands it
    /// straight to the task's error path with <paramref name="error"/> as the reason, then acknowledges it.
    /// </summary>
    /// <typeparam name="T">The source's item type.</typeparam>
    /// <param name="error">Why the item could not be read.</param>
    /// <param name="position">Where the item came from.</param>
    /// <param name="acknowledger">Receives the item's acknowledgement.</param>
    /// <param name="sourceRecord">The source's record with its original bytes, for the dead letter.</param>
    /// <returns>The unreadable item.</returns>
    public static SourceItem<T> Unreadable<T>(Exception error, SourcePosition position, IAcknowledger? acknowledger = null, object? sourceRecord = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new SourceItem<T>(default!, position, acknowledger, sourceRecord) { ReadError = error };
    }
}
