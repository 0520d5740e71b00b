using System.Diagnostics;
using System.Globalization;
using Meshinery.Kafka;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Messages;
using Meshinery.Scenarios.Orchestration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Meshinery.Scenarios.Systems;

/// <summary>
/// Meshinery, unordered: a <see cref="KafkaInput{T}"/>, one step doing the work (a sync step for blocking and no-op
/// work, an async step for async work), and a <see cref="KafkaOutput{T}"/>. The task's in-flight limit is the
/// concurrency C; for blocking work the worker pool has C threads too. Everything else is the library's default.
/// </summary>
internal sealed class MeshinerySystem : BenchSystem
{
    private const string TaskName = "bench";
    private readonly bool _inMemory;
    private ServiceProvider? _services;
    private MeshineryEngine? _engine;
    private KafkaInput<BenchMessage>? _input;
    private SlotTrace? _trace;

    public MeshinerySystem(RunSpec spec, RunProbe probe, bool inMemory)
        : base(spec, probe) => _inMemory = inMemory;

    public override bool IsReady => _inMemory ? _engine is not null : _input is { AssignedPartitions: > 0 };

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _trace = SlotTrace.Enabled ? new SlotTrace() : null;
        var services = new ServiceCollection();
        services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddSimpleConsole(console => console.SingleLine = true));
        services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        services.AddMeshinery(mesh =>
        {
            mesh.Configure(options =>
            {
                if (Spec.Kind == WorkKind.Blocking)
                {
                    options.WorkerThreads = Spec.Concurrency; // a blocking step holds its thread for the whole call
                }

                // Diagnosis only: another worker count for non-blocking work (the default is the library's, 64).
                if (Spec.Kind != WorkKind.Blocking && int.TryParse(
                        Environment.GetEnvironmentVariable("MESHINERY_BENCH_WORKERS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var workers))
                {
                    options.WorkerThreads = workers;
                }

                // Diagnosis only: another idle poll interval (the library's default is 250 ms).
                if (int.TryParse(
                        Environment.GetEnvironmentVariable("MESHINERY_BENCH_IDLE_POLL_MS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var idlePollMs))
                {
                    options.IdlePollInterval = TimeSpan.FromMilliseconds(idlePollMs);
                }

                options.MaxInFlight = Math.Max(options.MaxInFlight, Math.Max(Spec.Concurrency, Spec.MaxInFlight ?? 0));
                options.DrainTimeout = TimeSpan.FromSeconds(20);
                options.CancellationGracePeriod = TimeSpan.FromSeconds(2);
            });
            if (_inMemory)
            {
                mesh.AddTask<BenchMessage>(TaskName, task => DefineSteps(task.ReadFrom(new InMemoryInput<BenchMessage>("idle"))));
                return;
            }

            mesh.UseKafka(kafka =>
            {
                kafka.BootstrapServers = Spec.BootstrapServers;
                kafka.GroupId = Spec.GroupId;
                if (Spec.MaxPendingPerPartition is { } pending)
                {
                    kafka.MaxPendingPerPartition = pending;
                }

                kafka.ConsumerConfig["client.id"] = Spec.System;
                if (Environment.GetEnvironmentVariable("MESHINERY_BENCH_COMMIT_INTERVAL_MS") is { } commitMs)
                {
                    // An experiment knob (docs/benchmarks.md, "What the commit cadence costs"): the library's default otherwise.
                    kafka.CommitInterval = TimeSpan.FromMilliseconds(int.Parse(commitMs, System.Globalization.CultureInfo.InvariantCulture));
                }

                if (Spec.SessionTimeoutMs is { } session)
                {
                    kafka.ConsumerConfig["session.timeout.ms"] = session.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                if (Spec.FetchWaitMaxMs is { } fetchWait)
                {
                    kafka.ConsumerConfig["fetch.wait.max.ms"] = fetchWait.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                kafka.ProducerConfig["client.id"] = Spec.System;
            });
            _input = new KafkaInput<BenchMessage>(Spec.InputTopic, input => input.Deserializer = new BenchMessageDeserializer(Probe));
            var output = new KafkaOutput<BenchMessage>(Spec.OutputTopic, output => output.Serializer = BenchMessageSerializer.Instance);
            mesh.AddTask<BenchMessage>(TaskName, task => DefineSteps(task.ReadFrom(_input)).WriteTo(new ProbedOutput(output, Probe)));
        });

        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<MeshineryEngine>();
        await _engine.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_engine is not null)
        {
            await _engine.StopAsync(cancellationToken).ConfigureAwait(false);
            await _engine.Completion.ConfigureAwait(false);
            var stats = _engine.GetStatistics(TaskName);
            if (stats.Failed > 0 || stats.Abandoned > 0)
            {
                Console.Error.WriteLine(string.Create(
                    CultureInfo.InvariantCulture, $"meshinery: {stats.Failed} failed, {stats.Abandoned} abandoned runs"));
            }

            await _engine.DisposeAsync().ConfigureAwait(false);
        }

        if (_services is not null)
        {
            await _services.DisposeAsync().ConfigureAwait(false);
        }

        _trace?.Report(Console.Error);
        _trace?.Dispose();
    }

    private TaskBuilder<BenchMessage, BenchMessage> DefineSteps(TaskBuilder<BenchMessage, BenchMessage> task)
    {
        // Diagnosis only: an in-flight limit above the worker count (C × factor), as docs/architecture.md advises.
        var factor = double.TryParse(
            Environment.GetEnvironmentVariable("MESHINERY_BENCH_IN_FLIGHT_FACTOR"), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) ? f : 1;
        task.WithMaxInFlight(Spec.MaxInFlight ?? (int)Math.Ceiling(Spec.Concurrency * factor));
        if (Spec.OrderByKey)
        {
            task.OrderByKey();
        }

        if (Spec.ElasticMinWorkers > 0)
        {
            task.WithWorkerThreads(Spec.ElasticMinWorkers, Spec.Concurrency, TimeSpan.FromSeconds(Spec.ElasticIdleSeconds));
        }

        if (Spec.PriorityFrom is { } priorityFrom)
        {
            task.WithPriority(message => BenchMessage.Sequence(message.Input) >= priorityFrom);
        }

        var latency = Latency;
        if (_trace is not null)
        {
            return task.Process(
                async (message, cancellationToken) =>
                {
                    var stamps = SlotTrace.Begin();
                    await WorkAsync(cancellationToken).ConfigureAwait(false);
                    stamps?.WorkEnd = Stopwatch.GetTimestamp();
                    return message;
                },
                "work");
        }

        return Spec.Kind switch
        {
            WorkKind.Blocking => task.Process(
                message =>
                {
                    Thread.Sleep(latency);
                    return message;
                },
                "work"),
            WorkKind.Async => task.Process(
                async (message, cancellationToken) =>
                {
                    await Task.Delay(latency, cancellationToken).ConfigureAwait(false);
                    return message;
                },
                "work"),
            _ => task.Process(static message => message, "work"),
        };
    }

    /// <summary>Tells the probe when the broker has acknowledged an output (what the engine waits for before acknowledging).</summary>
    private sealed class ProbedOutput(OutputSink<BenchMessage> inner, RunProbe probe) : OutputSink<BenchMessage>(inner.Name)
    {
        public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) =>
            inner.StartAsync(context, cancellationToken);

        public override ValueTask StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

        public override bool IsTransient(Exception exception) => inner.IsTransient(exception);

        // The probe only counts: the write blocks exactly when the inner sink's does. Without this the wrapper hid the
        // KafkaOutput's declaration and every write after an async step went to a worker (not what users get).
        public override bool IsNonBlocking => inner.IsNonBlocking;

        public override ValueTask WriteAsync(BenchMessage item, CancellationToken cancellationToken)
        {
            if (SlotTrace.Current is { } stamps)
            {
                return TracedAsync(item, stamps, cancellationToken);
            }

            var write = inner.WriteAsync(item, cancellationToken);
            if (write.IsCompletedSuccessfully)
            {
                probe.MarkAcked();
                return default;
            }

            return AwaitAsync(write);
        }

        private async ValueTask TracedAsync(BenchMessage item, SlotTrace.Stamps stamps, CancellationToken cancellationToken)
        {
            stamps.WriteStart = Stopwatch.GetTimestamp();
            await inner.WriteAsync(item, cancellationToken).ConfigureAwait(false);
            stamps.WriteEnd = Stopwatch.GetTimestamp();
            probe.MarkAcked();
        }

        private async ValueTask AwaitAsync(ValueTask write)
        {
            await write.ConfigureAwait(false);
            probe.MarkAcked();
        }
    }
}
