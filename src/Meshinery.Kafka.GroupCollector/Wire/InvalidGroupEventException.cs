namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// Why the group collector rejected an event (not JSON, an unknown type, a missing or invalid field). The event is
/// dead-lettered with its original bytes; this exception's message is the reason (header <c>meshinery.error.message</c>).
/// </summary>
public sealed class InvalidGroupEventException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidGroupEventException()
        : this("Invalid group collector event.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The reason.</param>
    public InvalidGroupEventException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The reason.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidGroupEventException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
