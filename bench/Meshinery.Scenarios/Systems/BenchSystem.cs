using Confluent.Kafka;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Orchestration;

namespace Meshinery.Scenarios.Systems;

/// <summary>A system under test, running in a child process.</summary>
internal abstract class BenchSystem
{
    protected BenchSystem(RunSpec spec, RunProbe probe)
    {
        Spec = spec;
        Probe = probe;
        Latency = TimeSpan.FromMilliseconds(spec.LatencyMs);
    }

    protected RunSpec Spec { get; }

    protected RunProbe Probe { get; }

    protected TimeSpan Latency { get; }

    /// <summary>Whether the system is ready to read (consumer assigned), for idle measurements.</summary>
    public abstract bool IsReady { get; }

    public static BenchSystem Create(RunSpec spec, RunProbe probe) => spec.System switch
    {
        SystemNames.RawLoop => new PlainLoopSystem(spec, probe, PlainLoopSystem.Mode.Raw),
        SystemNames.ConsumeOnly => new PlainLoopSystem(spec, probe, PlainLoopSystem.Mode.ConsumeOnly),
        SystemNames.Sequential => new PlainLoopSystem(spec, probe, PlainLoopSystem.Mode.PerPartition),
        SystemNames.KeyHashWorkers => new KeyHashWorkersSystem(spec, probe),
#if STREAMIZ
        SystemNames.Streamiz => new StreamizSystem(spec, probe),
#else
        SystemNames.Streamiz => throw new ArgumentException("This build of the harness has no Streamiz (it was built with Confluent.Kafka 1.9.3, which Streamiz 1.8.2 cannot use).", nameof(spec)),
#endif
        SystemNames.Meshinery => new MeshinerySystem(spec, probe, inMemory: false),
        SystemNames.MeshineryInMemory => new MeshinerySystem(spec, probe, inMemory: true),
        _ => throw new ArgumentException($"Unknown system '{spec.System}'.", nameof(spec)),
    };

    public abstract Task StartAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync(CancellationToken cancellationToken);

    /// <summary>The per-message work, called synchronously (blocking or no-op work, or an async wait waited for).</summary>
    protected void WorkSync()
    {
        switch (Spec.Kind)
        {
            case WorkKind.Blocking:
                Thread.Sleep(Latency);
                break;
            case WorkKind.Async:
                // One message at a time: the loop has nothing else to do while it waits.
                Task.Delay(Latency).GetAwaiter().GetResult();
                break;
        }
    }

    /// <summary>The per-message work, for systems that can await.</summary>
    protected ValueTask WorkAsync(CancellationToken cancellationToken)
    {
        switch (Spec.Kind)
        {
            case WorkKind.Blocking:
                Thread.Sleep(Latency);
                return default;
            case WorkKind.Async:
                return new ValueTask(Task.Delay(Latency, cancellationToken));
            default:
                return default;
        }
    }

    /// <summary>Consumer settings of the baselines (Meshinery's input sets the same group, commit and reset settings).</summary>
    protected ConsumerConfig BaselineConsumerConfig() => new()
    {
        BootstrapServers = Spec.BootstrapServers,
        GroupId = Spec.GroupId,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        ClientId = Spec.System,
        Debug = Environment.GetEnvironmentVariable("MESHINERY_BENCH_DEBUG"),
        FetchWaitMaxMs = Spec.FetchWaitMaxMs,
        SessionTimeoutMs = Spec.SessionTimeoutMs,
    };

    /// <summary>Producer settings of the baselines: those Meshinery's outputs use by default.</summary>
    protected ProducerConfig BaselineProducerConfig() => new()
    {
        BootstrapServers = Spec.BootstrapServers,
        EnableIdempotence = true,
        LingerMs = ClientSettings.LingerMs,
        ClientId = Spec.System,
    };
}

/// <summary>Client settings shared by every system.</summary>
internal static class ClientSettings
{
    /// <summary>
    /// The baselines' producer linger: Meshinery's default (its outputs are awaited per message, so it keeps linger
    /// short), rather than librdkafka's 5 ms, which would add 5 ms to every awaited write of the key-hash workers.
    /// </summary>
    public const double LingerMs = 1;

    /// <summary>
    /// How often the baselines commit: 5 s, librdkafka's <c>auto.commit.interval.ms</c>. Meshinery keeps its own default
    /// (<c>KafkaOptions.CommitInterval</c>, 200 ms since issue 13, to bound replays after a crash), which costs it a commit
    /// request five times a second.
    /// </summary>
    public static readonly TimeSpan CommitInterval = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(100);
}
