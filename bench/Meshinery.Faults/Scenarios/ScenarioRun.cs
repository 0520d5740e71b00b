using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Meshinery.Faults.Cluster;
using Meshinery.Faults.Observation;
using Meshinery.Faults.Processes;
using Meshinery.Faults.Reporting;
using Meshinery.Testing;

namespace Meshinery.Faults.Scenarios;

/// <summary>
/// Everything one scenario run owns: its embedded cluster (hosted by this process, loopback only), topics, seeder,
/// watcher, sample instances and the log of what the tool did when. Disposing it kills whatever still runs.
/// </summary>
internal sealed partial class ScenarioRun : IAsyncDisposable
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(20);
    private readonly List<SampleInstance> _instances = [];
    private readonly List<(TimeSpan At, string What)> _events = [];
    private readonly List<string> _included = [];
    private readonly string _loadBefore = Load();

    private ScenarioRun(string name, EmbeddedKafkaCluster cluster, Topics topics)
    {
        Name = name;
        Cluster = cluster;
        Topics = topics;
        // FAULTS_CLIENT_DEBUG=broker,protocol,...: librdkafka debug logs of the tool's own seeder and watcher, in the log.
        var debug = Environment.GetEnvironmentVariable("FAULTS_CLIENT_DEBUG");
        Action<string>? clientLog = string.IsNullOrEmpty(debug) ? null : line => Note(line, echo: false);
        Seeder = new Seeder(cluster.BootstrapServers, topics, Clock, debug, clientLog);
        Watcher = new TopicWatcher(cluster.BootstrapServers, topics, Clock, debug, clientLog);
    }

    public string Name { get; }

    public RunClock Clock { get; } = new();

    public EmbeddedKafkaCluster Cluster { get; }

    public Topics Topics { get; }

    public Seeder Seeder { get; }

    public TopicWatcher Watcher { get; }

    public IReadOnlyList<SampleInstance> Instances => _instances;

    /// <summary>Starts a cluster of <paramref name="brokers"/> brokers with the scenario's topics (the dead-letter topic has one partition).</summary>
    public static async Task<ScenarioRun> StartAsync(string name, int partitions, int brokers = 1)
    {
        var cluster = KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = brokers });
        var topics = Topics.For(name, partitions);
        await cluster.CreateTopicAsync(topics.Input, partitions).ConfigureAwait(false);
        await cluster.CreateTopicAsync(topics.Output, partitions).ConfigureAwait(false);
        await cluster.CreateTopicAsync(topics.DeadLetters, 1).ConfigureAwait(false);
        return new ScenarioRun(name, cluster, topics);
    }

    public void Note(string what) => Note(what, echo: true);

    private void Note(string what, bool echo)
    {
        lock (_events)
        {
            _events.Add((Clock.Now, what));
        }

        if (echo)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{Name} {Clock.Now.TotalSeconds,7:F2}] {what}"));
        }
    }

    /// <summary>Starts an instance of the sample on this run's cluster, topics and group.</summary>
    public SampleInstance StartInstance(string name, params string[] extra)
    {
        string[] arguments =
        [
            "--bootstrap-servers", Cluster.BootstrapServers,
            "--input-topic", Topics.Input,
            "--output-topic", Topics.Output,
            "--dead-letter-topic", Topics.DeadLetters,
            "--group-id", Topics.GroupId,
            .. extra,
        ];
        var instance = SampleInstance.Start(name, arguments, Clock);
        _instances.Add(instance);
        Note($"started {name} (pid {instance.Id}): {string.Join(' ', extra)}");
        return instance;
    }

    /// <summary>
    /// Waits until <paramref name="outputs"/> orders are processed: by the watcher's count or by the instances' own
    /// progress lines, whichever is ahead (on a loaded machine the watcher can lag); false at the deadline.
    /// </summary>
    public async Task<bool> WaitForOutputsAsync(long outputs, TimeSpan deadline)
    {
        var until = Clock.Now + deadline;
        while (Math.Max(Watcher.Outputs, _instances.Sum(i => i.Processed)) < outputs)
        {
            if (Clock.Now >= until)
            {
                Note($"deadline: {Watcher.Outputs} of {outputs} outputs");
                return false;
            }

            await Task.Delay(s_pollInterval).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>
    /// Waits until the output topic holds <paramref name="outputs"/> messages by its end offsets, without reading them
    /// (for a measurement with the watcher paused); false at the deadline.
    /// </summary>
    public async Task<bool> WaitForOutputEndOffsetsAsync(long outputs, TimeSpan deadline)
    {
        var until = Clock.Now + deadline;
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "faults-watermarks" }).Build();
        var partitions = Enumerable.Range(0, Topics.Partitions).Select(p => new TopicPartition(Topics.Output, p)).ToList();
        while (true)
        {
            var written = partitions.Sum(p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(15)).High.Value);
            if (written >= outputs)
            {
                return true;
            }

            if (Clock.Now >= until)
            {
                Note($"deadline: the output topic holds {written} of {outputs} messages");
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false); // each poll is a request per partition
        }
    }

    /// <summary>
    /// Waits until the group has settled: every instance holds at least one input partition (by its own log) and
    /// together they hold each exactly once; false at the deadline.
    /// </summary>
    public async Task<bool> WaitForSettledGroupAsync(TimeSpan deadline)
    {
        var until = Clock.Now + deadline;
        while (true)
        {
            var held = _instances.Select(i => i.HeldPartitions()).ToList();
            if (held.All(h => h.Count > 0) && held.Sum(h => h.Count) == Topics.Partitions && held.SelectMany(h => h).Distinct().Count() == Topics.Partitions)
            {
                Note($"group settled: {string.Join(", ", _instances.Zip(held, (i, h) => $"{i.Name} holds {h.Count}"))}");
                return true;
            }

            if (Clock.Now >= until)
            {
                Note($"deadline: the group did not settle ({string.Join(", ", _instances.Zip(held, (i, h) => $"{i.Name} holds {h.Count}"))})");
                return false;
            }

            await Task.Delay(s_pollInterval).ConfigureAwait(false);
        }
    }

    /// <summary>Waits until every produced order has an output and every malformed message a dead letter; false at the deadline.</summary>
    public async Task<bool> WaitForEverythingAsync(TimeSpan deadline)
    {
        var until = Clock.Now + deadline;
        var produced = Seeder.Produced;
        var orders = produced.Where(m => !m.Malformed).Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        var malformed = produced.Where(m => m.Malformed).Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        while (true)
        {
            // Building the sets costs the tool CPU the instances share: only once the counts could match, or at the end.
            var deadlinePassed = Clock.Now >= until;
            if (!deadlinePassed && (Watcher.Outputs < orders.Count || Watcher.DeadLetters < malformed.Count))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
                continue;
            }

            var seen = Watcher.Seen;
            var outputs = seen.Where(o => !o.DeadLetter).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
            var deadLetters = seen.Where(o => o.DeadLetter).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
            if (orders.IsSubsetOf(outputs) && malformed.IsSubsetOf(deadLetters))
            {
                Note("every order has its output and every malformed message its dead letter");
                return true;
            }

            if (deadlinePassed)
            {
                Note($"deadline: {orders.Count(o => !outputs.Contains(o))} order(s) without output, {malformed.Count(m => !deadLetters.Contains(m))} malformed without dead letter");
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops every instance still running with SIGTERM, one at a time (a rolling scale-down: each stop is a rebalance
    /// for the others), then waits for every instance to exit; those still running at the deadline are killed (their
    /// exit code then is null). The sample checks at its stop that everything it read was committed.
    /// </summary>
    public async Task StopAllAsync(TimeSpan deadline)
    {
        foreach (var instance in _instances.Where(i => !i.HasExited))
        {
            instance.Terminate();
            Note($"SIGTERM {instance.Name}");
            await instance.WaitForExitAsync(deadline).ConfigureAwait(false);
        }

        await WaitForExitsAsync(deadline).ConfigureAwait(false);
    }

    /// <summary>Waits for every instance to exit; those still running at the deadline are killed (their exit code then is null).</summary>
    private async Task WaitForExitsAsync(TimeSpan deadline)
    {
        var exits = _instances.Select(async i =>
        {
            var code = await i.WaitForExitAsync(deadline).ConfigureAwait(false);
            Note(i.Killed && code is null ? $"{i.Name} did not exit within {deadline.TotalSeconds:N0} s: killed" : $"{i.Name} exited with {code?.ToString(CultureInfo.InvariantCulture) ?? "SIGKILL"}");
        });
        await Task.WhenAll(exits).ConfigureAwait(false);
    }

    /// <summary>The group's committed offsets of the input topic (-1001: none).</summary>
    public Dictionary<int, long> CommittedOffsets()
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = Topics.GroupId }).Build();
        return consumer.Committed(InputPartitions(), TimeSpan.FromSeconds(15)).ToDictionary(o => o.Partition.Value, o => o.Offset.Value);
    }

    /// <summary>End offsets of the input, output and dead-letter partitions.</summary>
    public Dictionary<TopicPartition, long> EndOffsets(IEnumerable<TopicPartition> partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.BootstrapServers, GroupId = "faults-watermarks" }).Build();
        return partitions.ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(15)).High.Value);
    }

    public List<TopicPartition> InputPartitions() => [.. Enumerable.Range(0, Topics.Partitions).Select(p => new TopicPartition(Topics.Input, p))];

    /// <summary>The longest time between two consecutive outputs or dead letters seen after <paramref name="from"/> until the last one.</summary>
    public double LongestGapAfter(TimeSpan from)
    {
        var times = Watcher.Seen.Where(o => o.At >= from).Select(o => o.At).Order().ToList();
        var previous = from;
        var longest = TimeSpan.Zero;
        foreach (var at in times)
        {
            longest = at - previous > longest ? at - previous : longest;
            previous = at;
        }

        return Math.Round(longest.TotalSeconds, 3);
    }

    /// <summary>
    /// Checks what Kafka holds once every instance has exited: each order's outputs, each malformed message's dead
    /// letters, and the group's committed offsets against the input's end offsets.
    /// </summary>
    public async Task<ScenarioResult> FinishAsync(string description, string faults, int redeliveringFailures, double throughput,
        IReadOnlyDictionary<string, double?> recovery, int? committedAheadOfOutputs = null, IReadOnlyList<string>? notes = null,
        double? commitIntervalSeconds = null)
    {
        // The watcher must have read both topics to their ends before its counts are final.
        var ends = EndOffsets(Enumerable.Range(0, Topics.Partitions).Select(p => new TopicPartition(Topics.Output, p)).Append(new TopicPartition(Topics.DeadLetters, 0)));
        var until = Clock.Now + TimeSpan.FromSeconds(60);
        while (!Watcher.HasRead(ends) && Clock.Now < until)
        {
            await Task.Delay(s_pollInterval).ConfigureAwait(false);
        }

        var produced = Seeder.Produced;
        var seen = Watcher.Seen.ToList();
        var outputs = seen.Where(o => !o.DeadLetter).GroupBy(o => o.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var deadLetters = seen.Where(o => o.DeadLetter).GroupBy(o => o.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var orders = produced.Where(m => !m.Malformed).ToList();
        var malformed = produced.Where(m => m.Malformed).ToList();
        var lost = orders.Count(m => !outputs.ContainsKey(m.Key)) + malformed.Count(m => !deadLetters.ContainsKey(m.Key));
        var duplicates = outputs.Values.Sum(c => c - 1) + deadLetters.Values.Sum(c => c - 1);

        var outputEnds = ends.Where(e => e.Key.Topic == Topics.Output).Sum(e => e.Value);
        var missing = orders.Where(m => !outputs.ContainsKey(m.Key)).Select(m => $"{m.Key} ({Topics.Input}[{m.Partition}]@{m.Offset})")
            .Concat(malformed.Where(m => !deadLetters.ContainsKey(m.Key)).Select(m => $"{m.Key} (malformed, [{m.Partition}]@{m.Offset})")).Take(20).ToList();
        var allNotes = (notes ?? []).ToList();
        allNotes.Add($"output topic holds {outputEnds} message(s) by its end offsets; the watcher read {seen.Count(o => !o.DeadLetter)}");
        if (missing.Count > 0)
        {
            allNotes.Add($"without output or dead letter: {string.Join(", ", missing)}");
        }

        var committed = CommittedOffsets();
        var inputEnds = EndOffsets(InputPartitions());
        var uncommitted = inputEnds.Count(e => committed.GetValueOrDefault(e.Key.Partition.Value, -1) != e.Value);

        var interval = commitIntervalSeconds ?? SampleDefaults.CommitIntervalSeconds;
        var bound = redeliveringFailures * (throughput * interval + (Topics.Partitions * SampleDefaults.MaxPendingPerPartition));
        var target = redeliveringFailures * (SampleDefaults.MaxInFlight + (0.5 * throughput));
        var logCounts = new Dictionary<string, int>
        {
            ["commit failed (103)"] = _instances.Sum(i => i.CountLines("Meshinery.Kafka[103]")),
            ["partitions lost (102)"] = _instances.Sum(i => i.CountLines("Meshinery.Kafka[102]")),
            ["revoked (101)"] = _instances.Sum(i => i.CountLines("Meshinery.Kafka[101]")),
            ["revocation timeout (112)"] = _instances.Sum(i => i.CountLines("Meshinery.Kafka[112]")),
            ["step/output retry (7)"] = _instances.Sum(i => i.CountLines("Meshinery[7]")),
            ["client error (104)"] = _instances.Sum(i => i.CountLines("Meshinery.Kafka[104]")),
            ["outputs above the writer's own last commit (event 110)"] = FinishedAboveOwnCommit(),
            ["error: lines"] = _instances.Sum(i => i.Lines.Count(l => l.Text.StartsWith("error:", StringComparison.Ordinal) || l.Text.StartsWith("fatal:", StringComparison.Ordinal))),
        };

        Note($"lost {lost}, duplicates {duplicates} (documented bound {bound:N0}, target {target:N0}), uncommitted partitions {uncommitted}");
        return new ScenarioResult
        {
            Scenario = Name,
            Description = description,
            Faults = faults,
            Orders = orders.Count,
            Malformed = malformed.Count,
            Partitions = Topics.Partitions,
            Lost = lost,
            Duplicates = duplicates,
            DocumentedBound = Math.Round(bound),
            Target = Math.Round(target),
            UncommittedPartitions = uncommitted,
            CommittedAheadOfOutputs = committedAheadOfOutputs,
            ThroughputPerSecond = Math.Round(throughput),
            Recovery = recovery,
            Instances = [.. _instances.Select(i => new InstanceOutcome(i.Name, i.Id, i.Killed ? null : i.ExitCode, i.Killed, i.SummaryLine()))],
            LogCounts = logCounts,
            Notes = allNotes,
            ElapsedSeconds = Math.Round(Clock.Now.TotalSeconds, 1),
            LoadBefore = _loadBefore,
            LoadAfter = Load(),
        };
    }

    /// <summary>The tool's events and every instance's lines, in time order.</summary>
    public IEnumerable<string> Transcript()
    {
        List<(TimeSpan At, string Line)> all;
        lock (_events)
        {
            all = [.. _events.Select(e => (e.At, string.Create(CultureInfo.InvariantCulture, $"[{e.At.TotalSeconds,8:F3} tool] {e.What}")))];
        }

        foreach (var instance in _instances)
        {
            all.AddRange(instance.Lines.Zip(instance.Transcript(), (l, t) => (l.At, t)));
        }

        return all.OrderBy(l => l.At).Select(l => l.Line).Concat(_included);
    }

    /// <summary>Appends another run's transcript to this one's (a scenario of several runs, each on a fresh cluster).</summary>
    public void Include(string heading, IEnumerable<string> transcript)
    {
        _included.Add(heading);
        _included.AddRange(transcript);
    }

    /// <summary>Offsets committed at a moment whose message has no output or dead letter by the end of the run.</summary>
    public int CountCommittedWithoutOutput(IReadOnlyDictionary<int, long> committed)
    {
        var done = Watcher.Seen.Where(o => !o.DeadLetter).Select(o => (o.SourcePartition, o.SourceOffset)).ToHashSet();
        var deadLettered = Watcher.Seen.Where(o => o.DeadLetter).Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        return Seeder.Produced.Count(m => m.Offset < committed.GetValueOrDefault(m.Partition, 0)
                                         && (m.Malformed ? !deadLettered.Contains(m.Key) : !done.Contains((m.Partition, m.Offset))));
    }

    /// <summary>
    /// For each instance that stopped normally, the outputs it wrote on a partition at or above the offset it last
    /// committed there (its event 110 lists them): finished work that its own commits do not cover, so the partition's
    /// next owner does it again. Each partition's highest commit is what counts; an instance's own is its truth.
    /// </summary>
    private int FinishedAboveOwnCommit()
    {
        var seen = Watcher.Seen.Where(o => !o.DeadLetter).ToList();
        var total = 0;
        foreach (var instance in _instances.Where(i => !i.Killed))
        {
            var stopped = instance.Lines.LastOrDefault(l => l.Text.Contains("Meshinery.Kafka[110]", StringComparison.Ordinal)).Text;
            if (stopped is null)
            {
                continue;
            }

            var lastCommitted = LastCommittedEntry().Matches(stopped).ToDictionary(
                m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            total += seen.Count(o => o.EnrichedBy == instance.Instance && lastCommitted.TryGetValue(o.SourcePartition, out var c) && o.SourceOffset >= c);
        }

        return total;
    }

    [GeneratedRegex(@"\[(\d+)\]=(\d+)")]
    private static partial Regex LastCommittedEntry();

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            await instance.DisposeAsync().ConfigureAwait(false);
        }

        Watcher.Dispose();
        Seeder.Dispose();
        await Cluster.DisposeAsync().ConfigureAwait(false);
    }

    private static string Load()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "unknown";
        }
    }
}
