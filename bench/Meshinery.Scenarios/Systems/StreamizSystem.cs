using System.Globalization;
using Confluent.Kafka;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Messages;
using Meshinery.Scenarios.Orchestration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Streamiz.Kafka.Net;
using Streamiz.Kafka.Net.SerDes;
using Streamiz.Kafka.Net.Stream;

namespace Meshinery.Scenarios.Systems;

/// <summary>
/// Streamiz.Kafka.Net (the Kafka Streams port for .NET), as its documentation recommends for external calls: the
/// work runs in <c>MapValuesAsync</c>, Streamiz's asynchronous processor, which writes each record to a request topic,
/// runs the call on its external stream thread, and writes the result to a response topic that a stream thread
/// forwards to the output topic. One stream thread per input partition (<c>NumStreamThreads = P</c>), at-least-once
/// (the mock cluster has no transactions). The no-op workload uses a plain <c>MapValues</c> (no external call).
/// </summary>
/// <remarks>
/// Streamiz 1.8.2 runs one external stream thread per <c>KafkaStream</c> and processes its records one at a time (it
/// waits for each call's task before taking the next record), so its async throughput is 1 / L per instance whatever
/// C is. An output counts when the output sink serializes it (Streamiz's producer gives no per-record callback); the
/// parent still checks that the output topic holds at least that many after the stop has flushed.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "The stream is disposed in StopAsync, as the other systems' clients are.")]
internal sealed class StreamizSystem : BenchSystem
{
    /// <summary>The async processor's name: its request and response topics are <c>{group}-work-request/-response</c>.</summary>
    public const string ProcessorName = "work";

    private readonly BenchMessageDeserializer _deserializer;
    // One per process, never disposed: Streamiz keeps the first configuration's logger factory in a static and uses
    // it for every later StreamConfig (the warm-up's stream and the measured one).
    private static readonly Lazy<ILoggerFactory> s_loggers = new(() => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("MESHINERY_BENCH_STREAMIZ_LOG"), out var level) ? level : LogLevel.Warning) // diagnosis
        .AddSimpleConsole(console => console.SingleLine = true)
        .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)));

    private KafkaStream? _stream;
    private volatile bool _running;

    public StreamizSystem(RunSpec spec, RunProbe probe)
        : base(spec, probe) => _deserializer = new BenchMessageDeserializer(probe);

    /// <summary>The internal topics Streamiz's async processor needs (created by the parent: the mock cluster's admin API cannot).</summary>
    public static string[] InternalTopics(string groupId) =>
        [$"{groupId}-{ProcessorName}-request", $"{groupId}-{ProcessorName}-response"];

    public override bool IsReady => _running;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var config = new StreamConfig<ByteArraySerDes, ByteArraySerDes>
        {
            ApplicationId = Spec.GroupId,
            ClientId = Spec.System,
            BootstrapServers = Spec.BootstrapServers,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            NumStreamThreads = Spec.Partitions,
            Guarantee = ProcessingGuarantee.AT_LEAST_ONCE,
            CommitIntervalMs = (long)ClientSettings.CommitInterval.TotalMilliseconds,
            LingerMs = ClientSettings.LingerMs,
            ReplicationFactor = 1,
            Logger = s_loggers.Value,
        };

        var builder = new StreamBuilder();
        var input = builder.Stream<byte[], byte[]>(Spec.InputTopic);
        var output = new ProbedSerDes(Probe);
        if (Spec.Kind == WorkKind.Noop)
        {
            input.MapValues((value, _) => Read(value).ToOutput(), ProcessorName).To(Spec.OutputTopic, new ByteArraySerDes(), output);
        }
        else
        {
            var bytes = new ByteArraySerDes();
            input.MapValuesAsync(
                    async (record, _) =>
                    {
                        var message = Read(record.Value);
                        await WorkAsync(CancellationToken.None).ConfigureAwait(false);
                        return message.ToOutput();
                    },
                    RetryPolicy.NewBuilder().Build(), // the default policy: with NumberOfRetry(0) Streamiz skips every record without calling the function
                    new RequestSerDes<byte[], byte[]>(bytes, bytes),
                    new ResponseSerDes<byte[], byte[]>(bytes, bytes),
                    ProcessorName)
                .To(Spec.OutputTopic, bytes, output);
        }

        _stream = new KafkaStream(builder.Build(), config);
        _stream.StateChanged += (_, state) => _running = state == KafkaStream.State.RUNNING;
        await _stream.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        // Dispose closes the stream threads, flushes their producers and commits.
        _stream?.Dispose();
        return Task.CompletedTask;
    }

    private BenchMessage Read(byte[] value) =>
        _deserializer.Deserialize(value, value is null, new SerializationContext(MessageComponentType.Value, Spec.InputTopic));

    /// <summary>The output value serdes: counts an output when the sink hands it to the producer.</summary>
    private sealed class ProbedSerDes(RunProbe probe) : AbstractSerDes<byte[]>
    {
        public override byte[] Serialize(byte[] data, SerializationContext context)
        {
            probe.MarkAcked();
            return data;
        }

        public override byte[] Deserialize(byte[] data, SerializationContext context) => data;
    }
}
