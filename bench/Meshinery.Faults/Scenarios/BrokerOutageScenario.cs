using Confluent.Kafka;
using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>
/// The only broker set down for 10 s at about 30 %, then up. Half the orders are produced only after it is back, so
/// the time until they come out measures reading and writing again, not the messages fetched before the outage.
/// </summary>
/// <remarks>
/// <c>outage</c> keeps the sample's 10 s session timeout: the outage is as long as the session, so the group expels the
/// instance and it must rejoin (on the embedded cluster a rejoin waits <c>session.timeout.ms</c> − 1 s, see
/// docs/reliability.md). <c>outage-in-session</c> gives the sample the library's session timeout (librdkafka's 45 s), so
/// the instance stays in the group through the outage and only reconnects.
/// </remarks>
/// <param name="name">The scenario's name.</param>
/// <param name="sessionTimeoutMs">The sample's <c>--session-timeout-ms</c>, or <see langword="null"/> for the sample's own (10 s).</param>
internal sealed class BrokerOutageScenario(string name = "outage", int? sessionTimeoutMs = null) : Scenario
{
    private const int Orders = 10_000;
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(10);

    private readonly string[] _arguments = sessionTimeoutMs is { } ms ? ["--session-timeout-ms", ms.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];

    public override string Name => name;

    public override string Description => "1 instance, 8 partitions, 10,000 orders (half produced after the outage); the broker down 10 s at ~30 %"
        + (sessionTimeoutMs is { } ms ? $"; session.timeout.ms {ms}" : "; session.timeout.ms 10000 (the sample's)");

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        var probeTopic = run.Topics.Input + "-probe";
        await run.Cluster.CreateTopicAsync(probeTopic, 1).ConfigureAwait(false);
        await run.Seeder.ProduceAsync(Orders / 2).ConfigureAwait(false);
        var instance = run.StartInstance("a", _arguments);
        await run.WaitForOutputsAsync(Orders * 3 / 10, WorkDeadline).ConfigureAwait(false);

        var throughput = ThroughputSoFar(run);
        run.Cluster.SetBrokerDown(1);
        var downAt = run.Clock.Now;
        run.Note($"broker 1 down at {run.Watcher.Outputs} outputs");
        await Task.Delay(s_outage).ConfigureAwait(false); // the fault's length, not a wait for a result
        run.Cluster.SetBrokerUp(1);
        var upAt = run.Clock.Now;
        run.Note("broker 1 up");
        var probed = await ProbeAsync(run, probeTopic).ConfigureAwait(false);
        run.Note($"a fresh producer's first message acknowledged {(probed - upAt).TotalSeconds:F3} s after the broker came back");

        await run.Seeder.ProduceAsync(Orders / 2).ConfigureAwait(false);
        var secondHalf = run.Seeder.Produced.Where(m => m.AckedAt >= upAt).Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        var firstAck = run.Seeder.Produced.Where(m => m.AckedAt >= upAt).Min(m => m.AckedAt);
        run.Note($"second half produced; first acknowledged {(firstAck - upAt).TotalSeconds:F3} s after the broker came back");

        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        var doneAt = run.Clock.Now;
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);

        var firstNew = run.Watcher.Seen.Where(o => !o.DeadLetter && secondHalf.Contains(o.Key)).Select(o => (TimeSpan?)o.At).Min();
        var lost = instance.CountLines("Meshinery.Kafka[102]") > 0;
        var recovery = new Dictionary<string, double?>
        {
            ["a fresh client's first produce acknowledged, after the broker came back"] = Seconds(probed, upAt),
            ["first output after the broker came back"] = Seconds(run.Watcher.FirstAfter(upAt), upAt),
            ["partitions assigned again, after the broker came back"] = Seconds(instance.FirstLineAfter(upAt, "was assigned"), upAt),
            ["first output of an order produced after the outage, after its produce was acknowledged"] = Seconds(firstNew, firstAck),
            ["all outputs written, after the broker came back"] = done ? Seconds(doneAt, upAt) : null,
        };
        var notes = new List<string>
        {
            lost ? "the instance lost its partitions during the outage (event 102): redelivery as after a crash"
                 : "the instance kept its partitions through the outage",
            $"outage {(upAt - downAt).TotalSeconds:F1} s",
        };
        return await run.FinishAsync(Description, "broker down 10 s at ~30 %", lost ? 1 : 0, throughput, recovery, notes: notes).ConfigureAwait(false);
    }

    /// <summary>When the broker answers a client that has no reconnect backoff behind it: the baseline for the others.</summary>
    private static async Task<TimeSpan> ProbeAsync(ScenarioRun run, string topic)
    {
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = run.Cluster.BootstrapServers, LingerMs = 0 }).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "probe", Value = "probe" }).ConfigureAwait(false);
        return run.Clock.Now;
    }
}
