namespace Meshinery;

/// <summary>What a task's error handler decides for a failed item.</summary>
public readonly struct ErrorDecision : IEquatable<ErrorDecision>
{
    private ErrorDecision(ErrorDecisionKind kind, object? replacement)
    {
        Kind = kind;
        Replacement = replacement;
    }

    /// <summary>Acknowledge the item as dropped; nothing is written.</summary>
    public static ErrorDecision Drop => new(ErrorDecisionKind.Drop, null);

    /// <summary>
    /// Send the item to the task's dead-letter output, or, when it has none, log it as an error. This is what
    /// happens when a task has no error handler.
    /// </summary>
    public static ErrorDecision DeadLetter => new(ErrorDecisionKind.DeadLetter, null);

    /// <summary>
    /// Continue the run after the failed step with <paramref name="replacement"/> as the step's result. The value must
    /// be of the failed step's output type, else the item is dead-lettered. For an item that could not be read, the
    /// replacement must be of the task's input type and the run starts at the first step.
    /// </summary>
    /// <param name="replacement">The replacement value.</param>
    /// <returns>The decision.</returns>
    public static ErrorDecision Continue(object? replacement) => new(ErrorDecisionKind.Continue, replacement);

    /// <summary>The kind of decision.</summary>
    public ErrorDecisionKind Kind { get; }

    /// <summary>The replacement value, for <see cref="ErrorDecisionKind.Continue"/>.</summary>
    public object? Replacement { get; }

    /// <inheritdoc/>
    public bool Equals(ErrorDecision other) => Kind == other.Kind && Equals(Replacement, other.Replacement);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is ErrorDecision other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, Replacement);

    /// <summary>Compares two decisions.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(ErrorDecision left, ErrorDecision right) => left.Equals(right);

    /// <summary>Compares two decisions.</summary>
    /// <param name="left">The first.</param>
    /// <param name="right">The second.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(ErrorDecision left, ErrorDecision right) => !left.Equals(right);
}

/// <summary>The kinds of <see cref="ErrorDecision"/>.</summary>
public enum ErrorDecisionKind
{
    /// <summary>Send the item to the dead-letter output or the error log.</summary>
    DeadLetter,

    /// <summary>Drop the item.</summary>
    Drop,

    /// <summary>Continue with a replacement value.</summary>
    Continue,
}
