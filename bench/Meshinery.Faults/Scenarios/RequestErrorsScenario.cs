using Confluent.Kafka;
using Meshinery.Faults.Reporting;

namespace Meshinery.Faults.Scenarios;

/// <summary>
/// Error responses from the broker for the next requests of one kind (the mock cluster's push-request-errors, whichever
/// client sends them), injected at about 30 %. For fetch errors half the orders are produced only after the injection,
/// so there is something left to fetch.
/// </summary>
internal sealed class RequestErrorsScenario(string name, string description, short apiKey, ErrorCode[] errors, bool produceAfter = false, int malformedEvery = 0, string[]? sampleArguments = null, double? commitIntervalSeconds = null) : Scenario
{
    private const int Orders = 10_000;

    public override string Name => name;

    public override string Description => description;

    public static IEnumerable<Scenario> All()
    {
        yield return new RequestErrorsScenario(
            "fetch-errors", "1 instance, 10,000 orders (half produced after the injection); 15 fetch requests answered with errors at ~30 %",
            1, [.. Repeat(5, ErrorCode.NotLeaderForPartition, ErrorCode.LeaderNotAvailable, ErrorCode.KafkaStorageError)], produceAfter: true);
        yield return new RequestErrorsScenario(
            "produce-errors", "1 instance, 10,000 orders; 15 produce requests answered with retriable errors at ~30 %",
            0, [.. Repeat(5, ErrorCode.NotEnoughReplicas, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut)]);
        yield return new RequestErrorsScenario(
            "commit-errors", "1 instance, 10,000 orders, commit interval 500 ms; 8 offset commits answered with errors at ~30 %",
            8, [.. Repeat(2, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut, ErrorCode.RebalanceInProgress)],
            sampleArguments: ["--commit-interval-ms", "500"], commitIntervalSeconds: 0.5);
        yield return new RequestErrorsScenario(
            "output-rejects", "1 instance, 10,000 orders + 20 malformed; the next 30 produce requests rejected (TopicAuthorizationFailed) at ~30 %",
            0, [.. Repeat(30, ErrorCode.TopicAuthorizationFailed)], malformedEvery: 500);
    }

    public override async Task<ScenarioResult> RunAsync(ScenarioRun run)
    {
        await run.Seeder.ProduceAsync(produceAfter ? Orders / 2 : Orders, malformedEvery).ConfigureAwait(false);
        run.StartInstance("a", sampleArguments ?? []);
        await run.WaitForOutputsAsync(Orders * 3 / 10, WorkDeadline).ConfigureAwait(false);

        var throughput = ThroughputSoFar(run);
        run.Cluster.FailNextRequests(apiKey, errors);
        var injectedAt = run.Clock.Now;
        run.Note($"{errors.Length} errors pushed for API key {apiKey} ({string.Join(", ", errors.Distinct())}) at {run.Watcher.Outputs} outputs");
        TimeSpan? firstAck = null;
        HashSet<string>? later = null;
        if (produceAfter)
        {
            await run.Seeder.ProduceAsync(Orders / 2).ConfigureAwait(false);
            var produced = run.Seeder.Produced.Where(m => m.AckedAt >= injectedAt).ToList();
            firstAck = produced.Min(m => m.AckedAt);
            later = produced.Select(m => m.Key).ToHashSet(StringComparer.Ordinal);
        }

        var done = await run.WaitForEverythingAsync(WorkDeadline).ConfigureAwait(false);
        var doneAt = run.Clock.Now;
        await run.StopAllAsync(ExitDeadline).ConfigureAwait(false);

        var recovery = new Dictionary<string, double?>
        {
            ["longest pause in outputs after the injection"] = run.LongestGapAfter(injectedAt),
            ["all outputs written, after the injection"] = done ? Seconds(doneAt, injectedAt) : null,
        };
        if (firstAck is { } ack && later is not null)
        {
            recovery["first output of an order produced after the injection, after its produce was acknowledged"] =
                Seconds(run.Watcher.Seen.Where(o => !o.DeadLetter && later.Contains(o.Key)).Select(o => (TimeSpan?)o.At).Min(), ack);
        }

        return await run.FinishAsync(Description, $"{errors.Length} × API {apiKey} errors at ~30 %", 0, throughput, recovery,
            commitIntervalSeconds: commitIntervalSeconds).ConfigureAwait(false);
    }

    private static IEnumerable<ErrorCode> Repeat(int times, params ErrorCode[] codes) =>
        Enumerable.Range(0, times).SelectMany(_ => codes);
}
