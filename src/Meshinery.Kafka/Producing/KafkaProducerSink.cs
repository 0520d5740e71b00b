using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Native;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>
/// What the Kafka outputs share: an idempotent producer of their own, writes awaited until the broker acknowledged
/// them, the distinction between transient and permanent failures, and a flush at stop.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public abstract class KafkaProducerSink<T> : OutputSink<T>
{
    private readonly string? _bootstrapServers;
    private readonly IDictionary<string, string> _producerConfig;
    private readonly Lock _adminLock = new();
    private IAdminClient? _admin;

    private protected KafkaProducerSink(string topic, string? bootstrapServers, IDictionary<string, string> producerConfig)
        : base(topic)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(topic);
        Topic = topic;
        _bootstrapServers = bootstrapServers;
        _producerConfig = producerConfig;
    }

    /// <summary>The topic written to.</summary>
    public string Topic { get; }

    /// <summary>The producer, once started.</summary>
    private protected IProducer<byte[]?, byte[]?> Producer { get; private set; } = null!;

    private protected ILogger Logger { get; private set; } = null!;

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        Logger = context.LoggerFactory.CreateLogger("Meshinery.Kafka");
        var shared = context.Services.GetService<IOptions<KafkaOptions>>()?.Value ?? new KafkaOptions();
        var bootstrapServers = _bootstrapServers ?? shared.BootstrapServers;
        if (string.IsNullOrWhiteSpace(bootstrapServers))
        {
            throw new MeshineryConfigurationException(
                context.TaskName, "BootstrapServers", $"Kafka output '{Name}' has no bootstrap servers; call UseKafka(kafka => kafka.BootstrapServers = ...) or set them on the output");
        }

        NativeClient.EnsureLoaded();
        var events = new ClientEvents(Logger, context, bootstrapServers);
        Producer = new ProducerBuilder<byte[]?, byte[]?>(shared.CreateProducerConfig(bootstrapServers, _producerConfig))
            .SetErrorHandler((producer, error) => events.OnError(producer.Name, error))
            .SetLogHandler((_, message) => events.OnLog(message))
            .Build();
        return default;
    }

    /// <inheritdoc/>
    public override async ValueTask StopAsync(CancellationToken cancellationToken)
    {
        if (Producer is null)
        {
            return;
        }

        // Flush blocks; keep it off the caller's thread so a host stopping several services is not held up.
        await Task.Run(() => Producer.Flush(cancellationToken), cancellationToken).ConfigureAwait(false);
        _admin?.Dispose();
        Producer.Dispose();
    }

    /// <summary>
    /// Broker and network trouble is transient (the write is retried); a message the broker can never accept, a
    /// serializer failure or a fatal client error is not (the item goes to the error path).
    /// </summary>
    /// <param name="exception">What the write threw.</param>
    /// <returns>Whether to retry.</returns>
    public override bool IsTransient(Exception exception) => exception switch
    {
        KafkaException { Error.IsFatal: true } => false,
        KafkaException kafka => kafka.Error.Code is not (
            ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.InvalidMsgSize
            or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRecord or ErrorCode.Local_InvalidArg
            or ErrorCode.InvalidRequiredAcks or ErrorCode.TopicException),
        _ => false,
    };

    /// <summary>Produces one message to the output's topic and waits for the broker's acknowledgement.</summary>
    private protected ValueTask ProduceAsync(Message<byte[]?, byte[]?> message, CancellationToken cancellationToken) =>
        ProduceAsync(new TopicPartition(Topic, Partition.Any), message, cancellationToken);

    /// <summary>Produces one message and waits for the broker's acknowledgement.</summary>
    private protected async ValueTask ProduceAsync(TopicPartition destination, Message<byte[]?, byte[]?> message, CancellationToken cancellationToken)
    {
        AddTraceContext(message);
        await Producer.ProduceAsync(destination, message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An admin client on the producer's connection (for metadata), made on first use.</summary>
    private protected IAdminClient Admin
    {
        get
        {
            lock (_adminLock)
            {
                return _admin ??= new DependentAdminClientBuilder(Producer.Handle).Build();
            }
        }
    }

    /// <summary>Adds the W3C trace context of the current activity (the run's), so consumers can continue the trace.</summary>
    private static void AddTraceContext(Message<byte[]?, byte[]?> message)
    {
        if (Activity.Current is not { } activity || activity.IdFormat != ActivityIdFormat.W3C)
        {
            return;
        }

        if (message.Headers?.TryGetLastBytes("traceparent", out _) == true)
        {
            return;
        }

        // A copy: the headers may be an object the user's function hands out for every message.
        var headers = CopyHeaders(message.Headers);
        headers.Add("traceparent", Encoding.ASCII.GetBytes(activity.Id!));
        message.Headers = headers;
    }

    /// <summary>A new header list with the same headers (none for <see langword="null"/>).</summary>
    private protected static Headers CopyHeaders(Headers? original)
    {
        var copy = new Headers();
        foreach (var header in original ?? [])
        {
            copy.Add(header.Key, header.GetValueBytes());
        }

        return copy;
    }
}
