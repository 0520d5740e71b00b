namespace Meshinery;

/// <summary>How a run ended; sources receive it with the item's acknowledgement.</summary>
public enum RunOutcome
{
    /// <summary>Every step ran and every output write is durable.</summary>
    Completed,

    /// <summary>A filter or the error handler dropped the item, or no branch matched it.</summary>
    Dropped,

    /// <summary>Processing failed and the item was handed to the error path (dead-letter output or error log).</summary>
    Failed,

    /// <summary>
    /// The engine stopped before the run finished. The item was not processed completely; a source that can
    /// redeliver (Kafka) must not treat it as done.
    /// </summary>
    Abandoned,
}
