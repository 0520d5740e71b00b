using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Meshinery;

/// <summary>Registers Meshinery's meters and activity sources with OpenTelemetry.</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry()
///     .WithMetrics(metrics => metrics.AddMeshineryInstrumentation().AddOtlpExporter())
///     .WithTracing(tracing => tracing.AddMeshineryInstrumentation().AddOtlpExporter());
/// </code>
/// </example>
public static class MeshineryInstrumentationExtensions
{
    /// <summary>
    /// Collects the <c>Meshinery</c> and <c>Meshinery.Kafka</c> meters. The step-duration histogram advises its own
    /// bucket boundaries (0.5 ms to 5 min), which OpenTelemetry applies unless a view overrides them.
    /// </summary>
    /// <param name="builder">The meter provider builder.</param>
    /// <returns>The builder.</returns>
    public static MeterProviderBuilder AddMeshineryInstrumentation(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(MeshineryTelemetry.Names);
    }

    /// <summary>
    /// Collects the <c>Meshinery</c> and <c>Meshinery.Kafka</c> activity sources: one <c>Consumer</c> activity per run,
    /// the child of the trace context the item carried (a Kafka message's <c>traceparent</c> header).
    /// </summary>
    /// <param name="builder">The tracer provider builder.</param>
    /// <returns>The builder.</returns>
    public static TracerProviderBuilder AddMeshineryInstrumentation(this TracerProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddSource(MeshineryTelemetry.Names);
    }
}
