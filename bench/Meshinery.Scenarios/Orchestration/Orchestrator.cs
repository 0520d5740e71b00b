using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Confluent.Kafka;
using Meshinery.Scenarios.Messages;
using Meshinery.Testing;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// The parent side: starts the embedded cluster, seeds every workload's input topic once, runs each system on each
/// workload in a child process (repeats interleaved, so that drift on a shared machine touches every system alike),
/// reads the outputs back, and reports medians.
/// </summary>
internal sealed class Orchestrator(HarnessOptions options)
{
    private static readonly TimeSpan s_seedTimeout = TimeSpan.FromMinutes(5);
    private readonly TextWriter _log = Console.Error;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var workloads = Plan.Create(options.Quick)
            .Where(w => options.Only.Count == 0 || options.Only.Any(o => w.Id.StartsWith(o, StringComparison.Ordinal)))
            .Select(w => w with { Systems = [.. w.Systems.Where(s => options.Systems.Count == 0 || options.Systems.Contains(s))] })
            .Where(w => w.Systems.Count > 0)
            .ToList();
        if (workloads.Count == 0)
        {
            _log.WriteLine("error: no workload matches --only / --systems.");
            return 2;
        }

        _log.WriteLine(MachineDescription());
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
        _log.WriteLine($"embedded cluster at {cluster.BootstrapServers}; {workloads.Count} workloads, {options.Repeat} run(s) each");

        foreach (var workload in workloads.Where(w => !SeedsWhenReady(w)))
        {
            if (!HasOwnInputTopic(workload))
            {
                await SeedTopicAsync(cluster, InputTopic(workload), workload.Partitions, workload.Seeded, cancellationToken, workload.Keys).ConfigureAwait(false);
            }

            if (workload.WarmupMessages > 0)
            {
                await SeedTopicAsync(cluster, WarmupTopic(workload), workload.Partitions, workload.WarmupMessages, cancellationToken).ConfigureAwait(false);
            }
        }

        var measurements = new Dictionary<(string Id, string System), List<RunMeasurement>>();
        for (var repeat = 1; repeat <= options.Repeat; repeat++)
        {
            foreach (var workload in workloads)
            {
                // Rotate the order of the systems from one repeat to the next.
                var systems = workload.Systems.Skip((repeat - 1) % workload.Systems.Count)
                    .Concat(workload.Systems.Take((repeat - 1) % workload.Systems.Count));
                foreach (var system in systems)
                {
                    var measurement = await RunOneAsync(cluster, workload, system, repeat, cancellationToken).ConfigureAwait(false);
                    if (!measurements.TryGetValue((workload.Id, system), out var list))
                    {
                        measurements[(workload.Id, system)] = list = [];
                    }

                    list.Add(measurement);
                }
            }
        }

        var rows = Aggregate(workloads, measurements);
        Report.PrintTable(rows, Console.Out);
        Report.PrintTargets(rows, Console.Out);
        ScenarioReport.Print(rows, Console.Out);
        PriorityReport.Print(rows, Console.Out);
        if (options.OutFile is { } file)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(file));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            await File.WriteAllTextAsync(file, JsonSerializer.Serialize(rows, Json.Results), cancellationToken).ConfigureAwait(false);
            _log.WriteLine($"wrote {rows.Count} rows to {file}");
        }

        _log.WriteLine(Invariant($"done in {Stopwatch.GetElapsedTime(started).TotalSeconds:N0} s"));
        return rows.Any(r => r.Errors.Count > 0) ? 1 : 0; // missed targets are reported, not failures
    }

    private static string InputTopic(Workload workload) => $"{workload.Id}-in";

    /// <summary>
    /// Scale-out: the input of each run is seeded once every instance holds partitions (the group has settled), so the
    /// figure is processing, not joining, and no instance finds the work already done.
    /// </summary>
    private static bool SeedsWhenReady(Workload workload) => workload.Instances > 1 || workload.QuietSeconds > 0;

    /// <summary>
    /// Whether each run reads an input topic of its own. Open loop too: its producer writes the run's load while the
    /// system reads, so a topic shared by the workload's runs would hand every later system (and repeat) the earlier
    /// runs' loads as a backlog, whose sequence numbers come again in its own load (seen as duplicates).
    /// </summary>
    private static bool HasOwnInputTopic(Workload workload) => SeedsWhenReady(workload) || workload.RatePerSecond > 0 || TricklesPriority(workload);

    /// <summary>Priority: the run's topic is seeded with the backlog, then the trickle is produced once the system is ready.</summary>
    private static bool TricklesPriority(Workload workload) => workload.HighPriorityMessages > 0;

    private static string WarmupTopic(Workload workload) => $"{workload.Id}-warmup";

    private async Task SeedTopicAsync(KafkaTestCluster cluster, string topic, int partitions, long messages, CancellationToken cancellationToken, int keys = 0)
    {
        await cluster.CreateTopicAsync(topic, partitions, cancellationToken).ConfigureAwait(false);
        if (messages == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        await Task.Run(() => Seed(cluster.BootstrapServers, topic, partitions, messages, keys), cancellationToken).ConfigureAwait(false);
        var count = OutputReader.Count(cluster.BootstrapServers, topic, partitions);
        if (count != messages)
        {
            throw new InvalidOperationException(Invariant(
                $"{topic} holds {count:N0} messages after seeding {messages:N0} (the mock broker keeps at most 5 MiB per partition)."));
        }

        _log.WriteLine(Invariant($"seeded {messages:N0} messages into {topic} in {Stopwatch.GetElapsedTime(started).TotalSeconds:N1} s"));
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string MachineDescription()
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        return Invariant($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, librdkafka {Library.VersionString}, load {load}");
    }

    private static void Seed(string bootstrapServers, string topic, int partitions, long messages, int keys)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 20,
            BatchSize = 1_000_000,
            CompressionType = CompressionType.Lz4, // the mock broker keeps only 5 MiB per partition
            QueueBufferingMaxMessages = 500_000,
            EnableIdempotence = true,
            ClientId = "seeder",
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        long failed = 0;
        string? firstError = null;
        void OnDelivered(DeliveryReport<byte[], byte[]> report)
        {
            if (report.Error.IsError && Interlocked.Increment(ref failed) == 1)
            {
                firstError = report.Error.Reason;
            }
        }

        for (long sequence = 0; sequence < messages; sequence++)
        {
            var message = new Message<byte[], byte[]>
            {
                Key = System.Text.Encoding.ASCII.GetBytes((keys > 0 ? sequence % keys : sequence).ToString(CultureInfo.InvariantCulture)),
                Value = BenchMessage.CreateInput(sequence, Stopwatch.GetTimestamp()),
            };
            var partition = new TopicPartition(topic, (int)(sequence % partitions));
            while (true)
            {
                try
                {
                    producer.Produce(partition, message, OnDelivered);
                    break;
                }
                catch (ProduceException<byte[], byte[]> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
                {
                    producer.Poll(TimeSpan.FromMilliseconds(10));
                }
            }
        }

        var pending = producer.Flush(s_seedTimeout);
        if (pending > 0 || failed > 0)
        {
            throw new InvalidOperationException(Invariant($"Seeding {topic}: {failed} failed, {pending} not delivered ({firstError ?? "timed out"})."));
        }
    }

    private async Task<RunMeasurement> RunOneAsync(KafkaTestCluster cluster, Workload workload, string system, int repeat, CancellationToken cancellationToken)
    {
        var label = $"{workload.Id}/{system}#{repeat}";
        var outputTopic = $"{workload.Id}-{system}-r{repeat}-out";
        // Streamiz's async processor runs one call at a time (1 / L): like the sequential baseline, it gets a budget.
        var budget = system is SystemNames.Sequential or SystemNames.Streamiz && workload.SequentialBudgetSeconds is { } sequential ? sequential : workload.BudgetSeconds;
        var spec = new RunSpec
        {
            System = system,
            Kind = workload.Kind,
            BootstrapServers = cluster.BootstrapServers,
            InputTopic = HasOwnInputTopic(workload) ? $"{workload.Id}-{system}-r{repeat}-in" : InputTopic(workload),
            OutputTopic = outputTopic,
            GroupId = $"{workload.Id}-{system}-r{repeat}",
            Partitions = workload.Partitions,
            LatencyMs = workload.LatencyMs,
            Concurrency = workload.Concurrency,
            Target = workload.Target,
            BudgetSeconds = budget,
            MaxPendingPerPartition = workload.MaxPendingPerPartition,
            IdleSeconds = workload.IdleSeconds,
            WarmupTopic = workload.WarmupMessages > 0 ? WarmupTopic(workload) : null,
            WarmupOutputTopic = workload.WarmupMessages > 0 ? $"{outputTopic}-warmup" : null,
            WarmupMessages = workload.WarmupMessages,
            OrderByKey = workload.OrderByKey,
            AnnounceReady = workload.RatePerSecond > 0 || SeedsWhenReady(workload) || TricklesPriority(workload),
            FetchWaitMaxMs = workload.RatePerSecond > 0 || TricklesPriority(workload) ? Plan.LiveFetchWaitMaxMs : null,
            SessionTimeoutMs = workload.Instances > 1 ? Plan.GroupSessionTimeoutMs : null,
            PriorityFrom = workload.PriorityLanes ? workload.Seeded : null,
            MaxInFlight = workload.MaxInFlight,
            ElasticMinWorkers = workload.ElasticMinWorkers,
            ElasticIdleSeconds = workload.ElasticIdleSeconds,
            SampleSeconds = workload.SampleSeconds,
            QuietSeconds = workload.QuietSeconds,
            DeadlineSeconds = 90 + budget + workload.IdleSeconds + (workload.WarmupMessages > 0 ? 60 : 0),
        };

        try
        {
            await cluster.CreateTopicAsync(outputTopic, Plan.OutputPartitions, cancellationToken).ConfigureAwait(false);
            if (spec.WarmupOutputTopic is { } warmupOutput)
            {
                await cluster.CreateTopicAsync(warmupOutput, Plan.OutputPartitions, cancellationToken).ConfigureAwait(false);
            }

#if STREAMIZ
            if (system == SystemNames.Streamiz)
            {
                foreach (var topic in Systems.StreamizSystem.InternalTopics(spec.GroupId))
                {
                    await cluster.CreateTopicAsync(topic, workload.Partitions, cancellationToken).ConfigureAwait(false);
                }
            }
#endif

            Task? seeding = null;
            Func<Task>? seedWhenReady = null;
            if (HasOwnInputTopic(workload))
            {
                await cluster.CreateTopicAsync(spec.InputTopic, workload.Partitions, cancellationToken).ConfigureAwait(false);
            }

            if (TricklesPriority(workload))
            {
                await Task.Run(() => Seed(cluster.BootstrapServers, spec.InputTopic, workload.Partitions, workload.Seeded, workload.Keys), cancellationToken).ConfigureAwait(false);
            }

            if (SeedsWhenReady(workload))
            {
                seedWhenReady = () => seeding = Task.Run(
                    () => Seed(cluster.BootstrapServers, spec.InputTopic, workload.Partitions, workload.Seeded, workload.Keys), cancellationToken);
            }

            var started = Stopwatch.GetTimestamp();
            OpenLoopProducer? openLoop = workload.RatePerSecond > 0
                ? new OpenLoopProducer(cluster.BootstrapServers, spec.InputTopic, workload.RatePerSecond, workload.Target, steps: workload.LoadSteps)
                : TricklesPriority(workload)
                    ? new OpenLoopProducer(cluster.BootstrapServers, spec.InputTopic, workload.HighPriorityRate, workload.HighPriorityMessages, firstSequence: workload.Seeded)
                    : null;
            RunReport report;
            try
            {
                report = seedWhenReady is not null
                    ? await InstanceGroup.RunAsync(spec, label, workload.Instances, seedWhenReady, cancellationToken).ConfigureAwait(false)
                    : await ChildProcess.RunAsync(spec, label, cancellationToken, onReady: openLoop is null ? null : openLoop.Start).ConfigureAwait(false);
            }
            finally
            {
                if (seeding is not null)
                {
                    await seeding.ConfigureAwait(false);
                }

                if (openLoop is not null)
                {
                    await openLoop.DisposeAsync().ConfigureAwait(false);
                }
            }

            var childSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var outputs = workload.Kind == WorkKind.Idle
                ? []
                : await Task.Run(() => OutputReader.ReadAll(cluster.BootstrapServers, outputTopic, Plan.OutputPartitions, out _), cancellationToken).ConfigureAwait(false);
            if (report.Series is { } series)
            {
                ElasticReport.Print(label, workload, series, Console.Out);
            }

            var measurement = RunMeasurement.From(workload, system, report, outputs);
            if (TricklesPriority(workload))
            {
                measurement = PriorityMeasurement.Apply(measurement, workload, outputs);
            }

            if (workload.QuietSeconds > 0 && outputs.Select(o => o.Sequence).Distinct().LongCount() is var unique && unique < workload.Seeded)
            {
                measurement = measurement with { Error = Invariant($"{system}: {workload.Seeded - unique:N0} of {workload.Seeded:N0} inputs have no output") };
            }
            if (openLoop is not null
                && OutputReader.Count(cluster.BootstrapServers, spec.InputTopic, workload.Partitions) is var inputs
                && inputs != openLoop.Produced + (TricklesPriority(workload) ? workload.Seeded : 0))
            {
                // The system must have read exactly the load of its run, nothing left over from another.
                measurement = measurement with { Error = Invariant($"{system}: {spec.InputTopic} holds {inputs:N0} messages, the open loop produced {openLoop.Produced:N0}") };
            }

            if (openLoop is not null)
            {
                LatencyOverTime.Print(label, report.FirstReadStamp, outputs, _log);
                _log.WriteLine(Invariant($"  {label,-34} open loop: produced {openLoop.Produced:N0} at {openLoop.AchievedRate:N0}/s (asked {(TricklesPriority(workload) ? workload.HighPriorityRate : workload.RatePerSecond):N0}/s)"));
            }

            _log.WriteLine(Invariant($"  {label,-34} {measurement.Describe()} [{childSeconds:N1} s]"));
            return measurement;
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _log.WriteLine($"  {label,-40} FAILED: {error.GetType().Name}: {error.Message}");
            return RunMeasurement.Failed($"{label}: {error.GetType().Name}: {error.Message}");
        }
    }

    private static List<ResultRow> Aggregate(List<Workload> workloads, Dictionary<(string Id, string System), List<RunMeasurement>> measurements)
    {
        var rows = new List<ResultRow>();
        foreach (var workload in workloads)
        {
            foreach (var system in workload.Systems)
            {
                if (measurements.TryGetValue((workload.Id, system), out var runs))
                {
                    rows.Add(RunMeasurement.Aggregate(workload, system, runs));
                }
            }

            // The no-op workload's reference: the raw loop on the same workload.
            var raw = rows.Find(r => r.Id == workload.Id && r.System == SystemNames.RawLoop && r.ThroughputPerSecond > 0);
            if (workload.Kind == WorkKind.Noop && raw is not null)
            {
                foreach (var row in rows.Where(r => r.Id == workload.Id))
                {
                    row.RatioToRaw = Math.Round(row.ThroughputPerSecond / raw.ThroughputPerSecond, 3);
                }
            }
        }

        return rows;
    }
}
