using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>Adds Kafka to Meshinery.</summary>
public static class KafkaMeshineryBuilderExtensions
{
    /// <summary>
    /// Configures the Kafka settings every <see cref="Kafka"/> input and output uses (validated when the application
    /// starts). May be called more than once; the settings add up.
    /// </summary>
    /// <param name="builder">The Meshinery builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static MeshineryBuilder UseKafka(this MeshineryBuilder builder, Action<KafkaOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<KafkaOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<KafkaOptions>, KafkaOptionsValidator>());
        return builder;
    }
}
