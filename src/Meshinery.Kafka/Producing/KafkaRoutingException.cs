namespace Meshinery.Kafka;

/// <summary>
/// An output's routing function (<see cref="KafkaOutputOptions{T}.Topic"/>, <see cref="KafkaOutputOptions{T}.Partition"/>)
/// chose a destination that cannot exist for one item. The item takes the task's error path (retries, then the error
/// handler or dead letter) with this message as the reason; other items go on.
/// </summary>
public sealed class KafkaRoutingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public KafkaRoutingException()
        : this("An output chose a destination that does not exist.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was chosen and why it cannot be written.</param>
    public KafkaRoutingException(string message)
        : base(message)
    {
        Setting = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was chosen and why it cannot be written.</param>
    /// <param name="innerException">The cause.</param>
    public KafkaRoutingException(string message, Exception innerException)
        : base(message, innerException)
    {
        Setting = string.Empty;
    }

    internal KafkaRoutingException(string setting, string message)
        : base(message)
    {
        Setting = setting;
    }

    /// <summary>The output setting whose function chose the destination: <c>Topic</c> or <c>Partition</c>.</summary>
    public string Setting { get; }
}
