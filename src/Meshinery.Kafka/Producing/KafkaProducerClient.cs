using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Meshinery.Kafka.Native;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka;

/// <summary>
/// What the Kafka outputs share: settings resolved at engine build, an idempotent producer of their own, writes awaited
/// until the broker acknowledged them (timed on the Kafka meter), the distinction between transient and permanent
/// failures, and a flush at stop.
/// </summary>
/// <param name="output">The output's name, for errors, logs and metrics.</param>
/// <param name="topic">The topic written to by default.</param>
/// <param name="bootstrapServers">The output's brokers; <see langword="null"/>: <see cref="KafkaOptions.BootstrapServers"/>.</param>
/// <param name="producerConfig">The output's librdkafka settings, on top of <see cref="KafkaOptions.ProducerConfig"/>.</param>
internal sealed class KafkaProducerClient(string output, string topic, string? bootstrapServers, IDictionary<string, string> producerConfig)
{
    private readonly Lock _adminLock = new();
    private readonly ConcurrentQueue<ProduceCompletion> _completions = new();
    private ProducerConfig? _config;
    private IDictionary<string, string> _sharedConfig = new Dictionary<string, string>();
    private IAdminClient? _admin;
    private KafkaMetrics? _metrics;
    private KeyValuePair<string, object?>[] _tags = [];
    private Action<long, string, string?>? _recordProduceCallback;
    private bool _deliveryReports = true;

    /// <summary>The topic written to by default.</summary>
    public string Topic { get; } = topic;

    /// <summary>The producer, once started.</summary>
    public IProducer<byte[]?, byte[]?> Producer { get; private set; } = null!;

    /// <summary>An admin client on the producer's connection (for metadata), made on first use.</summary>
    public IAdminClient Admin
    {
        get
        {
            lock (_adminLock)
            {
                return _admin ??= new DependentAdminClientBuilder(Producer.Handle).Build();
            }
        }
    }

    /// <summary>Resolves the producer settings with the shared <see cref="KafkaOptions"/>, when the engine is built.</summary>
    /// <returns>Each problem as the setting and what is wrong with it.</returns>
    public IEnumerable<KeyValuePair<string, string>> Validate(IServiceProvider services)
    {
        var shared = services.GetService<IOptions<KafkaOptions>>()?.Value ?? new KafkaOptions();
        var servers = bootstrapServers ?? shared.BootstrapServers;
        if (string.IsNullOrWhiteSpace(servers))
        {
            return [new("BootstrapServers", $"Kafka output '{output}' has no bootstrap servers; call UseKafka(kafka => kafka.BootstrapServers = ...) or set them on the output")];
        }

        _config = shared.CreateProducerConfig(servers, producerConfig);
        _sharedConfig = shared.ProducerConfig;
        return [];
    }

    /// <summary>Creates the producer; a setting librdkafka refuses fails naming the task, the output and the property.</summary>
    public void Start(SourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_config is null && Validate(context.Services).FirstOrDefault() is { Key: not null } problem)
        {
            throw new MeshineryConfigurationException(context.TaskName, problem.Key, problem.Value);
        }

        var config = _config!;
        _deliveryReports = config.EnableDeliveryReports ?? true;
        var logger = context.LoggerFactory.CreateLogger("Meshinery.Kafka");
        _metrics = KafkaMetrics.For(context.Services);
        _tags = [new(KafkaMetrics.TaskTag, context.TaskName), new(KafkaMetrics.OutputTag, output)];
        NativeClient.EnsureLoaded();
        var events = new ClientEvents(logger, context, config.BootstrapServers);
        Producer = ClientSettingsCheck.Build(
            () => new ProducerBuilder<byte[]?, byte[]?>(config)
                .SetErrorHandler((producer, error) => events.OnError(producer.Name, error))
                .SetLogHandler((_, message) => events.OnLog(message))
                .Build(),
            context.TaskName,
            $"Kafka output '{output}'",
            nameof(KafkaOutputOptions<object>.ProducerConfig),
            producerConfig,
            _sharedConfig);
    }

    /// <summary>Flushes what is still queued and closes the producer.</summary>
    public async ValueTask StopAsync(CancellationToken cancellationToken)
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
    public static bool IsTransient(Exception exception) => exception switch
    {
        KafkaException { Error.IsFatal: true } => false,
        KafkaException kafka => kafka.Error.Code is not (
            ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.InvalidMsgSize
            or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRecord or ErrorCode.Local_InvalidArg
            or ErrorCode.InvalidRequiredAcks or ErrorCode.TopicException),
        _ => false,
    };

    /// <summary>
    /// Produces one message; the task completes when the broker has acknowledged it (a failed delivery throws
    /// Confluent's <see cref="ProduceException{TKey, TValue}"/>, a cancelled wait <see cref="OperationCanceledException"/>),
    /// and the produce's duration goes to the meter. The task is backed by a pooled <see cref="ProduceCompletion"/>:
    /// await it once.
    /// </summary>
    public ValueTask ProduceAsync(TopicPartition destination, Message<byte[]?, byte[]?> message, CancellationToken cancellationToken)
    {
        AddTraceContext(message);
        var startedAt = Stopwatch.GetTimestamp();
        if (!_deliveryReports)
        {
            return ProduceUnreportedAsync(destination, message, startedAt, cancellationToken);
        }

        var completion = _completions.TryDequeue(out var pooled) ? pooled : new ProduceCompletion(_completions, RecordProduceCallback);
        completion.Start(destination.Topic, startedAt, cancellationToken);
        try
        {
            Producer.Produce(destination, message, completion.OnDelivered);
        }
        catch (KafkaException error)
        {
            // Refused at once (a full local queue, a message too large): no delivery report follows.
            completion.Abandon();
            RecordProduce(startedAt, destination.Topic, error.Error.Code.ToString());
            return ValueTask.FromException(error);
        }
        catch (Exception error)
        {
            completion.Abandon();
            return ValueTask.FromException(error);
        }

        return completion.Write;
    }

    /// <summary>With delivery reports disabled (<c>dotnet.producer.enable.delivery.reports</c>) Confluent takes no handler.</summary>
    private async ValueTask ProduceUnreportedAsync(
        TopicPartition destination, Message<byte[]?, byte[]?> message, long startedAt, CancellationToken cancellationToken)
    {
        try
        {
            await Producer.ProduceAsync(destination, message, cancellationToken).ConfigureAwait(false);
            RecordProduce(startedAt, destination.Topic, error: null);
        }
        catch (KafkaException error)
        {
            RecordProduce(startedAt, destination.Topic, error.Error.Code.ToString());
            throw;
        }
    }

    /// <summary>A new header list with the same headers (none for <see langword="null"/>).</summary>
    public static Headers CopyHeaders(Headers? original)
    {
        var copy = new Headers();
        foreach (var header in original ?? [])
        {
            copy.Add(header.Key, header.GetValueBytes());
        }

        return copy;
    }

    // Made once, on the first completion: every pooled completion records through it.
    private Action<long, string, string?> RecordProduceCallback => _recordProduceCallback ??= RecordProduce;

    private void RecordProduce(long startedAt, string topic, string? error)
    {
        if (_metrics?.ProduceDuration is not { Enabled: true } histogram)
        {
            return;
        }

        var tags = new TagList(_tags) { { KafkaMetrics.TopicTag, topic } };
        if (error is not null)
        {
            tags.Add(KafkaMetrics.ErrorTypeTag, error);
        }

        histogram.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, tags);
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
}
