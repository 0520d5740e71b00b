using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Builds a Kafka client, turning librdkafka's refusal of a setting (a misspelt property, a value it cannot parse)
/// into a configuration error that names the task, the input or output and the property, instead of a bare exception
/// without its origin.
/// </summary>
internal static partial class ClientSettingsCheck
{
    /// <summary>Runs <paramref name="build"/>; a refused setting fails with <see cref="MeshineryConfigurationException"/>.</summary>
    /// <param name="build">Builds the client (librdkafka checks every property then).</param>
    /// <param name="taskName">The task, for the error.</param>
    /// <param name="component">The input or output, as the error names it (<c>Kafka output 'x'</c>).</param>
    /// <param name="settings">The settings' name: <c>ConsumerConfig</c> or <c>ProducerConfig</c>.</param>
    /// <param name="own">The input's or output's own settings.</param>
    /// <param name="shared">The shared settings (<see cref="KafkaOptions"/>), named as such when the property is only there.</param>
    public static TClient Build<TClient>(
        Func<TClient> build, string taskName, string component, string settings, IDictionary<string, string> own, IDictionary<string, string> shared)
    {
        try
        {
            return build();
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or KafkaException)
        {
            // librdkafka's text names the property: No such configuration property: "partitoner".
            var setting = settings;
            if (Property().Match(error.Message) is { Success: true } match)
            {
                var property = match.Groups[1].Value;
                var where = !own.ContainsKey(property) && shared.ContainsKey(property) ? $"{nameof(KafkaOptions)}.{settings}" : settings;
                setting = $"{where}[\"{property}\"]";
            }

            throw new MeshineryConfigurationException(taskName, setting, $"{component}: librdkafka refuses its settings ({error.Message.TrimEnd('.')})");
        }
    }

    [GeneratedRegex("property:? \"([^\"]+)\"", RegexOptions.CultureInvariant)]
    private static partial Regex Property();
}
