using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>
/// The dead-letter topic unavailable for 10 s while everything else works: two brokers, the dead-letter partition led
/// by broker 2, the input and output partitions and the group's coordinator on broker 1; broker 2 down at about 30 %.
/// </summary>
internal sealed class DeadLetterUnavailableScenario : Scenario
{
    private const int Orders = 10_000;
    private static readonly TimeSpan s_outage = TimeSpan.FromSeconds(10);

    public override string Name => "dead-letter-unavailable";

    public override string Description => "1 instance, 10,000 orders + 50 malformed; the dead-letter topic's broker down 10 s at ~30 %";

    public override int Brokers => 2;

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        for (var p = 0; p < run.Topics.Partitions; p++)
        {
            run.Cluster.SetPartitionLeader(run.Topics.Input, p, 1);
            run.Cluster.SetPartitionLeader(run.Topics.Output, p, 1);
        }

        run.Cluster.SetPartitionLeader(run.Topics.DeadLetters, 0, 2);
        run.Cluster.SetGroupCoordinator(run.Topics.GroupId, 1);
        await run.Seeder.ProduceAsync(Orders, malformedEvery: 200).ConfigureAwait(false);
        run.StartInstance("a");
        await run.WaitForOutputsAsync(Orders * 3 / 10, WorkDeadline).ConfigureAwait(false);

        var throughput = ThroughputSoFar(run);
        run.Cluster.SetBrokerDown(2);
        var downAt = run.Clock.Now;
        run.Note($"broker 2 (dead-letter topic) down at {run.Watcher.Outputs} outputs, {run.Watcher.DeadLetters} dead letters");
        await Task.Delay(s_outage).ConfigureAwait(false); // the fault's length, not a wait for a result
        run.Cluster.SetBrokerUp(2);
        var upAt = run.Clock.Now;
        run.Note("broker 2 up");

        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        var doneAt = run.Clock.Now;
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);
        var recovery = new Dictionary<string, double?>
        {
            ["first dead letter after the broker came back"] = Seconds(run.Watcher.Seen.Where(o => o.DeadLetter && o.At >= upAt).Select(o => (TimeSpan?)o.At).Min(), upAt),
            ["outputs per second during the outage / before"] = throughput > 0 ? Math.Round(run.Watcher.Rate(downAt, upAt) / throughput, 2) : null,
            ["all outputs written, after the broker came back"] = done ? Seconds(doneAt, upAt) : null,
        };
        return await run.FinishAsync(Description, "dead-letter partition's leader down 10 s at ~30 %", 0, throughput, recovery).ConfigureAwait(false);
    }
}
