namespace Meshinery;

/// <summary>The names of the meters and activity sources Meshinery's packages publish.</summary>
public static class MeshineryTelemetry
{
    /// <summary>The core's meter and activity source (runs, steps, polls): <c>Meshinery</c>.</summary>
    public const string CoreName = "Meshinery";

    /// <summary>The Kafka package's meter and activity source: <c>Meshinery.Kafka</c>.</summary>
    public const string KafkaName = "Meshinery.Kafka";

    /// <summary>Every name, as <see cref="MeshineryInstrumentationExtensions"/> registers them.</summary>
    internal static readonly string[] Names = [CoreName, KafkaName];
}
