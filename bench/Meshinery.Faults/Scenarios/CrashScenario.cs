using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>One instance, SIGKILLed at about 35 %, then started again.</summary>
internal sealed class CrashScenario : Scenario
{
    private const int Orders = 5_000;

    public override string Name => "crash";

    public override string Description => "1 instance, 8 partitions, 5,000 orders, 200 in flight; SIGKILL at ~35 %, restart";

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        await run.Seeder.ProduceAsync(Orders).ConfigureAwait(false);
        var first = run.StartInstance("a");
        await run.WaitForOutputsAsync(Orders * 35 / 100, WorkDeadline).ConfigureAwait(false);

        var throughput = ThroughputSoFar(run);
        first.Kill();
        var killedAt = run.Clock.Now;
        run.Note($"SIGKILL a at {run.Watcher.Outputs} outputs");
        var killedAtOutputs = run.Watcher.Outputs;
        var committedAtKill = run.CommittedOffsets();
        run.Note($"committed at the kill: {committedAtKill.Values.Sum(v => Math.Max(0, v))} offsets");
        var second = run.StartInstance("b");

        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        var doneAt = run.Clock.Now;
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);
        var recovery = new Dictionary<string, double?>
        {
            ["restarted instance assigned, after the kill"] = Seconds(second.FirstLineAfter(killedAt, "was assigned"), killedAt),
            ["all outputs written, after the kill"] = done ? Seconds(doneAt, killedAt) : null,
        };
        var notes = new List<string> { $"killed at {killedAtOutputs} outputs ({100.0 * killedAtOutputs / Orders:F0} %); offsets committed then: {committedAtKill.Values.Sum(v => Math.Max(0, v))}" };
        return await run.FinishAsync(Description, "SIGKILL at ~35 %, restart at once", 1, throughput, recovery,
            run.CountCommittedWithoutOutput(committedAtKill), notes).ConfigureAwait(false);
    }
}
