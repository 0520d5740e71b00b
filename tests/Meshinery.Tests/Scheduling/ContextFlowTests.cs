using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Scheduling;

/// <summary>
/// Each step sees the task data, run context and log scope of its own run, on whatever thread it lands: after awaits,
/// after hopping from a worker to the thread pool and back, and inside fork branches.
/// </summary>
public class ContextFlowTests
{
    private const string Category = "context-flow-steps";

    [Fact]
    public async Task Steps_AcrossThreadHopsAndForkBranches_SeeTheirOwnRunsTaskDataAndLogScope()
    {
        const int count = 300;
        var input = new ScriptedInput<int>("orders", partition: 2);
        input.Add(Enumerable.Range(0, count));
        var seen = new ConcurrentBag<Observation>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("context-flow", (services, task) =>
            {
                var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
                void Observe(int item, string step)
                {
                    var context = TaskRunContext.Current;
                    var data = TaskData.Current;
                    seen.Add(new Observation(
                        item,
                        step,
                        Environment.CurrentManagedThreadId,
                        context?.RunId,
                        context?.Position,
                        data?.TaskName,
                        data is not null && data.TryGetValue("tenant", out var tenant) ? tenant : null));
                    TestLog.StepSaw(logger, step, item);
                }

                task.ReadFrom(input)
                    .WithData("tenant", "acme")
                    .Process(i =>
                    {
                        Observe(i, "first");
                        return i;
                    })
                    .Process(async (i, ct) =>
                    {
                        await Task.Delay(1, ct); // resumes on a thread-pool thread
                        Observe(i, "after-await");
                        return i;
                    })
                    .ForkJoin(
                        async (i, ct) =>
                        {
                            Observe(i, "branch-a");
                            await Task.Delay(1, ct);
                            Observe(i, "branch-a-after-await");
                            return i;
                        },
                        async (i, ct) =>
                        {
                            await Task.Yield();
                            Observe(i, "branch-b");
                            return (long)i;
                        },
                        (i, a, b) => i)
                    .Process(i =>
                    {
                        Observe(i, "last"); // back on a worker thread
                        return i;
                    });
            }),
            options => options.WorkerThreads = 8);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        var steps = new[] { "first", "after-await", "branch-a", "branch-a-after-await", "branch-b", "last" };
        var byItem = seen.GroupBy(o => o.Item).ToDictionary(g => g.Key, g => g.ToList());
        byItem.Should().HaveCount(count);
        foreach (var (item, observations) in byItem)
        {
            observations.Select(o => o.Step).Should().BeEquivalentTo(steps);
            observations.Should().OnlyContain(
                o => o.TaskName == "context-flow" && o.Tenant == "acme" && o.Position == new SourcePosition("orders", 2, item),
                "every step of item {0} sees its own run's data and position", item);
            observations.Select(o => o.RunId).Distinct().Should().ContainSingle("all steps of item {0} belong to one run", item);
        }

        byItem.Values.Select(o => o[0].RunId).Should().OnlyHaveUniqueItems();
        byItem.Values.Count(o => ThreadOf(o, "first") != ThreadOf(o, "after-await")).Should().BeGreaterThan(0, "steps hop threads");
        byItem.Values.Count(o => ThreadOf(o, "first") != ThreadOf(o, "last")).Should().BeGreaterThan(0);

        var runIdByItem = byItem.ToDictionary(p => p.Key, p => p.Value[0].RunId);
        var records = harness.Logs.GetSnapshot().Where(r => r.Category == Category).ToList();
        records.Should().HaveCount(count * steps.Length);
        foreach (var record in records)
        {
            var item = int.Parse(record.GetStructuredStateValue("Item")!, System.Globalization.CultureInfo.InvariantCulture);
            var scope = record.Scopes.OfType<IReadOnlyList<KeyValuePair<string, object?>>>().Should().ContainSingle().Subject;
            var entries = scope.ToDictionary(e => e.Key, e => e.Value);
            entries["RunId"].Should().Be(runIdByItem[item], "the log scope in step {0} of item {1} is its own run's", record.GetStructuredStateValue("Step"), item);
            entries.Should().Contain("TaskName", "context-flow")
                .And.Contain("RunId", runIdByItem[item])
                .And.Contain("Source", "orders")
                .And.Contain("Partition", 2)
                .And.Contain("Offset", (long)item);
        }

        TaskRunContext.Current.Should().BeNull("the test's own flow is not a run");
        TaskData.Current.Should().BeNull();
    }

    [Fact]
    public async Task Steps_AsyncLocalSetByAStep_DoesNotLeakIntoOtherRuns()
    {
        var marker = new AsyncLocal<int?>();
        var leaks = 0;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 500));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("no-leak", task => task
                .ReadFrom(input)
                .Process(i =>
                {
                    if (marker.Value is not null)
                    {
                        Interlocked.Increment(ref leaks);
                    }

                    marker.Value = i;
                    return i;
                })),
            options => options.WorkerThreads = 2); // few workers: each runs many runs one after another

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(500);

        leaks.Should().Be(0);
    }

    [Fact]
    public async Task Steps_AsyncLocalSetByAStep_IsNotSeenByTheNextStepOfTheSameRun()
    {
        var marker = new AsyncLocal<int?>();
        var seenByNext = new ConcurrentBag<int?>();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 20));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("step-isolation", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                marker.Value = i;
                return i;
            })
            .Process(i =>
            {
                seenByNext.Add(marker.Value); // runs right after, on the same worker
                return i;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(20);

        seenByNext.Should().HaveCount(20).And.OnlyContain(v => v == null, "each step runs in its own copy of the run's context");
    }

    [Fact]
    public async Task SetLogProperty_InAStep_AppearsInTheScopeOfLaterStepsLogs()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 20));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("log-property", (services, task) =>
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
            task.ReadFrom(input)
                .Process(i =>
                {
                    TaskRunContext.Current!.SetLogProperty("OrderId", $"order-{i}");
                    return i;
                })
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    TestLog.StepSaw(logger, "priced", i);
                    return i;
                });
        }));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(20);

        var records = harness.Logs.GetSnapshot().Where(r => r.Category == Category).ToList();
        records.Should().HaveCount(20);
        foreach (var record in records)
        {
            var scope = record.Scopes.OfType<IReadOnlyList<KeyValuePair<string, object?>>>().Single();
            scope.Should().Contain(new KeyValuePair<string, object?>("OrderId", $"order-{record.GetStructuredStateValue("Item")}"));
        }
    }

    private static int ThreadOf(List<Observation> observations, string step) => observations.Single(o => o.Step == step).ThreadId;

    private sealed record Observation(int Item, string Step, int ThreadId, long? RunId, SourcePosition? Position, string? TaskName, string? Tenant);
}
