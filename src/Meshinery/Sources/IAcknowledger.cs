namespace Meshinery;

/// <summary>
/// Receives the acknowledgement of items read from an input source. The engine calls
/// <see cref="Acknowledge"/> exactly once per item, when its run has ended, from the engine's run loop thread.
/// </summary>
/// <remarks>
/// One acknowledger usually serves many items (for Kafka, one per partition assignment), so no object is
/// allocated per item. Implementations must be quick and must not throw.
/// </remarks>
public interface IAcknowledger
{
    /// <summary>Acknowledges the item read at <paramref name="position"/>.</summary>
    /// <param name="position">The item's position, as the source gave it.</param>
    /// <param name="outcome">How the item's run ended.</param>
    void Acknowledge(SourcePosition position, RunOutcome outcome);
}
