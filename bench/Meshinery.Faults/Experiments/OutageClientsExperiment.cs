using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Meshinery.Faults.Processes;
using Meshinery.Testing;

namespace Meshinery.Faults.Experiments;

/// <summary>
/// Plain Confluent clients only (no Meshinery, no sample): which of them read and write again how soon after the
/// embedded cluster's only broker was down, and why (each client's librdkafka debug log, on one clock). It separates
/// the mock broker's behaviour from the library's: the outage scenario's instance got its partitions back 9.4 s after
/// the broker returned, and the tool's own long-lived seeder and watcher needed 50–60 s.
/// </summary>
/// <remarks>
/// Clients: three long-lived producers (the tool's seeder settings, Meshinery's producer defaults, librdkafka's), two
/// consumers that assign partitions without a group (the tool's watcher settings, Meshinery's consumer defaults) and
/// three group members with session timeouts shorter than, equal to and longer than the outage (librdkafka's 45 s).
/// A load producer writes while the broker goes down, so the consumers are mid-fetch as in the scenario. After the
/// broker returns, a fresh producer writes one marker per partition and every long-lived producer writes its own.
/// </remarks>
internal static class OutageClientsExperiment
{
    public const string Name = "outage-clients";
    private const string Topic = "x";
    private const int Partitions = 8;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(120);

    /// <param name="results">Where the table and the log go.</param>
    /// <param name="outage">How long the broker is down.</param>
    /// <param name="debug">librdkafka debug contexts of every client ("" for none).</param>
    /// <param name="child">
    /// "inherit": start a child process (sleep) after the clients connected, as the tool starts sample instances;
    /// "cloexec": the same after marking this process's sockets close-on-exec; null: none.
    /// </param>
    public static async Task<int> RunAsync(string results, TimeSpan outage, string debug, string? child = null)
    {
        var clock = new RunClock();
        var log = new ConcurrentQueue<(TimeSpan At, string Line)>();
        void Note(string who, string what)
        {
            log.Enqueue((clock.Now, string.Create(CultureInfo.InvariantCulture, $"[{clock.Now.TotalSeconds,8:F3} {who}] {what}")));
            if (who == "tool")
            {
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Name} {clock.Now.TotalSeconds,7:F2}] {what}"));
            }
        }

        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        await using var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });
        await cluster.CreateTopicAsync(Topic, Partitions).ConfigureAwait(false);
        Note("tool", $"cluster {cluster.BootstrapServers}; topic {Topic} with {Partitions} partitions; debug '{debug}'; outage {outage.TotalSeconds:F0} s");

        var producers = new List<ProbeProducer>
        {
            new("p-seeder-idle", cluster.BootstrapServers, debug, Note, new() { ["enable.idempotence"] = "true", ["linger.ms"] = "5", ["reconnect.backoff.ms"] = "10", ["reconnect.backoff.max.ms"] = "100" }) { IdleThroughOutage = true },
            new("p-seeder", cluster.BootstrapServers, debug, Note, new() { ["enable.idempotence"] = "true", ["linger.ms"] = "5", ["reconnect.backoff.ms"] = "10", ["reconnect.backoff.max.ms"] = "100" }),
            new("p-meshinery", cluster.BootstrapServers, debug, Note, new() { ["enable.idempotence"] = "true", ["linger.ms"] = "1", ["reconnect.backoff.ms"] = "100", ["reconnect.backoff.max.ms"] = "1000" }),
            new("p-librdkafka", cluster.BootstrapServers, debug, Note, new() { ["enable.idempotence"] = "true" }),
        };
        var consumers = new List<ProbeConsumer>
        {
            new("c-watcher", cluster.BootstrapServers, debug, Note, clock, group: null, new() { ["fetch.wait.max.ms"] = "50", ["reconnect.backoff.ms"] = "10", ["reconnect.backoff.max.ms"] = "100" }),
            new("c-meshinery", cluster.BootstrapServers, debug, Note, clock, group: null, new() { ["reconnect.backoff.ms"] = "100", ["reconnect.backoff.max.ms"] = "1000", ["fetch.error.backoff.ms"] = "100" }),
            new("g-session-6s", cluster.BootstrapServers, debug, Note, clock, group: "g6", GroupSettings(6_000)),
            new("g-session-10s", cluster.BootstrapServers, debug, Note, clock, group: "g10", GroupSettings(10_000)),
            new("g-session-45s", cluster.BootstrapServers, debug, Note, clock, group: "g45", GroupSettings(45_000)),
        };

        try
        {
            foreach (var producer in producers)
            {
                await producer.ProduceAllAsync("before", clock).ConfigureAwait(false);
            }

            var settled = clock.Now + TimeSpan.FromSeconds(30);
            while (consumers.Any(c => c.Assigned == 0) && clock.Now < settled)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }

            Note("tool", $"assigned: {string.Join(", ", consumers.Select(c => $"{c.Name} {c.Assigned}"))}");
            using var sleeper = child is null ? null : StartChild(child, Note);

            // Consumers mid-fetch when the broker goes down, as the watcher was in the scenario.
            using (var load = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 1 }).Build())
            {
                var until = clock.Now + TimeSpan.FromSeconds(2);
                var n = 0;
                while (clock.Now < until)
                {
                    load.Produce(new TopicPartition(Topic, n % Partitions), new Message<string, string> { Key = "load", Value = "load" });
                    n++;
                    await Task.Delay(5).ConfigureAwait(false);
                }

                load.Flush(TimeSpan.FromSeconds(5));
                Note("tool", $"load producer wrote {n}");
                cluster.SetBrokerDown(1);
                Note("tool", "broker 1 down");
            }

            // Each long-lived producer has writes waiting through the outage, as the sample's outputs had.
            var during = producers.Where(p => !p.IdleThroughOutage).Select(p => p.ProduceAllAsync("during", clock)).ToList();

            await Task.Delay(outage).ConfigureAwait(false); // the fault's length, not a wait for a result
            cluster.SetBrokerUp(1);
            var upAt = clock.Now;
            Note("tool", "broker 1 up");
            foreach (var consumer in consumers)
            {
                consumer.MarkUp(upAt);
            }

            using (var fresh = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build())
            {
                for (var p = 0; p < Partitions; p++)
                {
                    await fresh.ProduceAsync(new TopicPartition(Topic, p), new Message<string, string> { Key = "fresh", Value = "after:fresh" }).ConfigureAwait(false);
                }
            }

            Note("tool", string.Create(CultureInfo.InvariantCulture, $"a fresh producer's markers acknowledged {(clock.Now - upAt).TotalSeconds:F3} s after the broker came back"));
            var afterProduce = producers.Select(p => p.ProduceAllAsync("after", clock)).ToList();
            var deadline = upAt + s_deadline;
            while ((consumers.Any(c => c.FirstAfterUp is null) || afterProduce.Concat(during).Any(t => !t.IsCompleted)) && clock.Now < deadline)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }

            sleeper?.Kill();
            var lines = new List<string>
            {
                $"# {Name}: plain clients, the only broker down {outage.TotalSeconds:F0} s{(child is null ? "" : $", a child process started after they connected ({child})")} (load {loadBefore} → {File.ReadAllText("/proc/loadavg").Trim()})",
                "",
                "| client | settings | recovered after the broker came back (s) |",
                "| --- | --- | --- |",
            };
            foreach (var producer in producers)
            {
                lines.Add($"| {producer.Name} (producer) | {producer.Settings} | {(producer.IdleThroughOutage ? "nothing written during the outage" : $"writes waiting through the outage: first ack {Seconds(producer.FirstAck("during"), upAt)}, all {Seconds(producer.LastAck("during"), upAt)}")}; writes after: first ack {Seconds(producer.FirstAck("after"), upAt)}, all {Seconds(producer.LastAck("after"), upAt)} |");
            }

            foreach (var consumer in consumers)
            {
                var assigned = consumer.Group is null ? "" : $"assigned again {Seconds(consumer.AssignedAfterUp, upAt)}; ";
                lines.Add($"| {consumer.Name} ({(consumer.Group is null ? "assign, no group" : "group member")}) | {consumer.Settings} | {assigned}first message written after the outage read {Seconds(consumer.FirstAfterUp, upAt)} |");
            }

            Directory.CreateDirectory(results);
            File.WriteAllLines(Path.Combine(results, Name + ".md"), lines);
            File.WriteAllLines(Path.Combine(results, Name + ".log"), log.OrderBy(l => l.At).Select(l => l.Line));
            foreach (var line in lines)
            {
                Console.WriteLine(line);
            }

            Console.Error.WriteLine($"results in {results}");
            return 0;
        }
        finally
        {
            foreach (var consumer in consumers)
            {
                consumer.Dispose();
            }

            foreach (var producer in producers)
            {
                producer.Dispose();
            }
        }
    }

    private static System.Diagnostics.Process StartChild(string mode, Action<string, string> note)
    {
        var marked = mode == "cloexec" ? SocketInheritance.MarkSocketsCloseOnExec() : 0;
        var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "150") { UseShellExecute = false })!;
        note("tool", $"started a child process (sleep, pid {process.Id}) after the clients connected; sockets marked close-on-exec first: {marked}");
        return process;
    }

    private static Dictionary<string, string> GroupSettings(int sessionMs) => new()
    {
        ["session.timeout.ms"] = sessionMs.ToString(CultureInfo.InvariantCulture),
        ["heartbeat.interval.ms"] = Math.Max(100, sessionMs / 10).ToString(CultureInfo.InvariantCulture),
        ["reconnect.backoff.ms"] = "100",
        ["reconnect.backoff.max.ms"] = "1000",
        ["partition.assignment.strategy"] = "cooperative-sticky",
    };

    private static string Seconds(TimeSpan? at, TimeSpan from) =>
        at is { } t ? (t - from).TotalSeconds.ToString("F3", CultureInfo.InvariantCulture) : "never (within the deadline)";

    private static string Describe(Dictionary<string, string> settings) => string.Join(", ", settings.Select(s => $"{s.Key}={s.Value}"));

    /// <summary>A long-lived producer: its writes before the outage, and after it one message per partition.</summary>
    private sealed class ProbeProducer : IDisposable
    {
        private readonly IProducer<string, string> _producer;
        private readonly ConcurrentQueue<(string Phase, TimeSpan At)> _acks = new();

        public ProbeProducer(string name, string bootstrapServers, string debug, Action<string, string> note, Dictionary<string, string> settings)
        {
            Name = name;
            Settings = Describe(settings);
            var config = new ProducerConfig(new Dictionary<string, string>(settings)) { BootstrapServers = bootstrapServers, ClientId = name };
            if (debug.Length > 0)
            {
                config.Debug = debug;
            }

            _producer = new ProducerBuilder<string, string>(config)
                .SetLogHandler((_, m) => note(name, $"{m.Facility} {m.Message}"))
                .SetErrorHandler((_, e) => note(name, $"error {e.Code}: {e.Reason}"))
                .Build();
        }

        public string Name { get; }

        public string Settings { get; }

        /// <summary>Writes nothing while the broker is down (as the tool's seeder).</summary>
        public bool IdleThroughOutage { get; init; }

        public TimeSpan? FirstAck(string phase) => _acks.Where(a => a.Phase == phase).Select(a => (TimeSpan?)a.At).Min();

        public TimeSpan? LastAck(string phase) =>
            _acks.Count(a => a.Phase == phase) == Partitions ? _acks.Where(a => a.Phase == phase).Max(a => a.At) : null;

        public async Task ProduceAllAsync(string phase, RunClock clock)
        {
            var writes = Enumerable.Range(0, Partitions).Select(async p =>
            {
                await _producer.ProduceAsync(new TopicPartition(Topic, p), new Message<string, string> { Key = Name, Value = $"{phase}:{Name}" }).ConfigureAwait(false);
                _acks.Enqueue((phase, clock.Now));
            });
            await Task.WhenAll(writes).ConfigureAwait(false);
        }

        public void Dispose() => _producer.Dispose();
    }

    /// <summary>A consumer on its own thread: when it is assigned partitions, and when it reads the first message written after the outage.</summary>
    private sealed class ProbeConsumer : IDisposable
    {
        private readonly IConsumer<string, string> _consumer;
        private readonly RunClock _clock;
        private readonly CancellationTokenSource _stop = new();
        private readonly Thread _thread;
        private long _upTicks = long.MaxValue;
        private int _assigned;

        public ProbeConsumer(string name, string bootstrapServers, string debug, Action<string, string> note, RunClock clock, string? group, Dictionary<string, string> settings)
        {
            Name = name;
            Group = group;
            Settings = Describe(settings);
            _clock = clock;
            var config = new ConsumerConfig(new Dictionary<string, string>(settings))
            {
                BootstrapServers = bootstrapServers,
                ClientId = name,
                GroupId = group ?? "experiment-no-group", // never joined by the assigning consumers
                EnableAutoCommit = false,
                AutoOffsetReset = AutoOffsetReset.Earliest,
            };
            if (debug.Length > 0)
            {
                config.Debug = debug;
            }

            _consumer = new ConsumerBuilder<string, string>(config)
                .SetLogHandler((_, m) => note(name, $"{m.Facility} {m.Message}"))
                .SetErrorHandler((_, e) => note(name, $"error {e.Code}: {e.Reason}"))
                .SetPartitionsAssignedHandler((_, ps) =>
                {
                    note(name, $"assigned {ps.Count}");
                    Interlocked.Add(ref _assigned, ps.Count);
                    if (_clock.Now.Ticks >= Interlocked.Read(ref _upTicks))
                    {
                        AssignedAfterUp ??= _clock.Now;
                    }
                })
                .SetPartitionsRevokedHandler((_, ps) => { note(name, $"revoked {ps.Count}"); Interlocked.Add(ref _assigned, -ps.Count); })
                .SetPartitionsLostHandler((_, ps) => { note(name, $"lost {ps.Count}"); Interlocked.Add(ref _assigned, -ps.Count); })
                .Build();
            if (group is null)
            {
                _consumer.Assign(Enumerable.Range(0, Partitions).Select(p => new TopicPartitionOffset(Topic, p, Offset.Beginning)));
                _assigned = Partitions;
            }
            else
            {
                _consumer.Subscribe(Topic);
            }

            _thread = new Thread(Run) { IsBackground = true, Name = name };
            _thread.Start();
        }

        public string Name { get; }

        public string? Group { get; }

        public string Settings { get; }

        public int Assigned => Volatile.Read(ref _assigned);

        public TimeSpan? AssignedAfterUp { get; private set; }

        public TimeSpan? FirstAfterUp { get; private set; }

        public void MarkUp(TimeSpan at) => Interlocked.Exchange(ref _upTicks, at.Ticks);

        public void Dispose()
        {
            _stop.Cancel();
            _thread.Join();
            _consumer.Close();
            _consumer.Dispose();
            _stop.Dispose();
        }

        private void Run()
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
                    if (result?.Message?.Value is { } value && value.StartsWith("after:", StringComparison.Ordinal))
                    {
                        FirstAfterUp ??= _clock.Now;
                    }
                }
                catch (ConsumeException)
                {
                    // broker trouble: the client reconnects by itself
                }
            }
        }
    }
}
