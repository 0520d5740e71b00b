using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>Three instances of one group on 12 partitions (settled before seeding); one SIGKILLed at about 30 %, a fresh one joins.</summary>
/// <param name="assignment">The sample's <c>--assignment</c> (a group protocol), or <see langword="null"/> for its default.</param>
internal sealed class ChurnScenario(string? assignment) : Scenario
{
    private readonly string[] _arguments = assignment is null ? [] : ["--assignment", assignment];

    private const int Orders = 24_000;

    public override string Name => "churn";

    public override string Description => "3 instances, 12 partitions, 24,000 orders; one SIGKILLed at ~30 %, a fresh one joins"
        + (assignment is null ? "" : $"; group protocol {assignment}");

    public override int Partitions => 12;

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        // The group settles before the orders arrive, so the kill strikes one of three working members under every
        // protocol (seeded first, one member can do 30 % alone while the others are still joining).
        run.StartInstance("a", _arguments);
        var victim = run.StartInstance("b", _arguments);
        run.StartInstance("c", _arguments);
        await run.WaitForSettledGroupAsync(WorkDeadline).ConfigureAwait(false);
        await run.Seeder.ProduceAsync(Orders).ConfigureAwait(false);
        await run.WaitForOutputsAsync(Orders * 3 / 10, WorkDeadline).ConfigureAwait(false);

        var throughput = ThroughputSoFar(run);
        victim.Kill();
        var killedAt = run.Clock.Now;
        run.Note($"SIGKILL b at {run.Watcher.Outputs} outputs");
        var killedAtOutputs = run.Watcher.Outputs;
        var committedAtKill = run.CommittedOffsets();
        var fresh = run.StartInstance("d", _arguments);

        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        var doneAt = run.Clock.Now;
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);
        var recovery = new Dictionary<string, double?>
        {
            ["fresh instance first assigned, after the kill"] = Seconds(fresh.FirstLineAfter(killedAt, "was assigned"), killedAt),
            ["longest pause in outputs after the kill"] = run.LongestGapAfter(killedAt),
            ["all outputs written, after the kill"] = done ? Seconds(doneAt, killedAt) : null,
        };
        return await run.FinishAsync(Description, "SIGKILL of 1 of 3 instances at ~30 %; a 4th instance started", 1, throughput, recovery,
            run.CountCommittedWithoutOutput(committedAtKill),
            [$"killed at {killedAtOutputs} outputs ({100.0 * killedAtOutputs / Orders:F0} %); offsets committed then: {committedAtKill.Values.Sum(v => Math.Max(0, v))}"]).ConfigureAwait(false);
    }
}
