using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// Writes failed items to a dead-letter topic: a message read from Kafka keeps its original key, value and headers;
/// the headers in <see cref="DeadLetterHeaders"/> say what failed, where and why. An item that did not come from
/// Kafka is written as JSON. Use it with <see cref="TaskBuilder{TInput, T}.DeadLetterTo"/>.
/// </summary>
public sealed class KafkaDeadLetterOutput : OutputSink<ProcessingFailure>
{
    private const int MaxMessageHeaderLength = 4096;
    private readonly KafkaProducerClient _client;

    /// <summary>Creates the output.</summary>
    /// <param name="topic">The dead-letter topic.</param>
    /// <param name="bootstrapServers">The brokers. Default: <see cref="KafkaOptions.BootstrapServers"/>.</param>
    public KafkaDeadLetterOutput(string topic, string? bootstrapServers = null)
        : base(topic)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        _client = new KafkaProducerClient(Name, topic, bootstrapServers, new Dictionary<string, string>(StringComparer.Ordinal));
    }

    /// <summary>The dead-letter topic.</summary>
    public string Topic => _client.Topic;

    /// <inheritdoc/>
    public override IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services) => _client.Validate(services);

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        _client.Start(context);
        return default;
    }

    /// <inheritdoc/>
    public override ValueTask StopAsync(CancellationToken cancellationToken) => _client.StopAsync(cancellationToken);

    /// <summary>
    /// Broker and network trouble is transient (the write is retried); a message the broker can never accept or a
    /// fatal client error is not.
    /// </summary>
    /// <param name="exception">What the write threw.</param>
    /// <returns>Whether to retry.</returns>
    public override bool IsTransient(Exception exception) => KafkaProducerClient.IsTransient(exception);

    /// <inheritdoc/>
    public override ValueTask WriteAsync(ProcessingFailure item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        var message = item.SourceRecord is ConsumeResult<byte[], byte[]> original
            ? new Message<byte[]?, byte[]?>
            {
                Key = original.Message.Key,
                Value = original.Message.Value,
                Headers = KafkaProducerClient.CopyHeaders(original.Message.Headers),
            }
            : new Message<byte[]?, byte[]?> { Value = SerializeItem(item.Item), Headers = [] };

        var exception = item.Exception;
        var headers = message.Headers;
        Add(headers, DeadLetterHeaders.ErrorType, exception.GetType().FullName ?? exception.GetType().Name);
        Add(headers, DeadLetterHeaders.ErrorMessage, Truncate(exception.Message));
        Add(headers, DeadLetterHeaders.Task, item.TaskName);
        Add(headers, DeadLetterHeaders.Step, item.StepName);
        Add(headers, DeadLetterHeaders.Attempts, item.Attempts.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.SourceTopic, item.Position.Source);
        Add(headers, DeadLetterHeaders.SourcePartition, item.Position.Partition.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.SourceOffset, item.Position.Offset.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.FailedAt, item.FailedAt.ToString("O", CultureInfo.InvariantCulture));
        return _client.ProduceAsync(new TopicPartition(Topic, Partition.Any), message, cancellationToken);
    }

    private static void Add(Headers headers, string key, string value) => headers.Add(key, Encoding.UTF8.GetBytes(value));

    private static string Truncate(string text) => text.Length <= MaxMessageHeaderLength ? text : text[..MaxMessageHeaderLength];

    private static byte[]? SerializeItem(object? item)
    {
        if (item is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.SerializeToUtf8Bytes(item, item.GetType(), JsonSerializerOptions.Web);
        }
        catch (Exception error) when (error is NotSupportedException or JsonException or InvalidOperationException)
        {
            return Encoding.UTF8.GetBytes(item.ToString() ?? string.Empty); // a dead letter must be written even then
        }
    }
}

/// <summary>The headers <see cref="KafkaDeadLetterOutput"/> adds to every dead letter (values are UTF-8 text).</summary>
public static class DeadLetterHeaders
{
    /// <summary>The full type name of the exception.</summary>
    public const string ErrorType = "meshinery.error.type";

    /// <summary>The exception's message (at most 4,096 characters).</summary>
    public const string ErrorMessage = "meshinery.error.message";

    /// <summary>The task.</summary>
    public const string Task = "meshinery.task";

    /// <summary>The step that failed (<c>read</c> when the message could not be deserialized).</summary>
    public const string Step = "meshinery.step";

    /// <summary>How many times the step was tried.</summary>
    public const string Attempts = "meshinery.attempts";

    /// <summary>The topic the message was read from.</summary>
    public const string SourceTopic = "meshinery.source.topic";

    /// <summary>Its partition.</summary>
    public const string SourcePartition = "meshinery.source.partition";

    /// <summary>Its offset.</summary>
    public const string SourceOffset = "meshinery.source.offset";

    /// <summary>When it failed, ISO 8601.</summary>
    public const string FailedAt = "meshinery.failed_at";
}
