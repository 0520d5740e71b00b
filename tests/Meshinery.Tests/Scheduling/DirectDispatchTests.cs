using System.Collections.Concurrent;

namespace Meshinery.Tests.Scheduling;

/// <summary>
/// Runs that skip the run loop (an unordered run's first step, the step after an await) keep the engine's guarantees:
/// in-flight limits, their own run context on every step, and ordering by key across several awaiting steps.
/// </summary>
public class DirectDispatchTests
{
    [Fact]
    public async Task AwaitingStepsInARow_Unordered_InFlightNeverExceedsTheLimitAndEachStepSeesItsOwnRun()
    {
        const int limit = 8;
        const int count = 300;
        var input = new ScriptedInput<int>("orders", partition: 1) { Bound = limit };
        input.Add(Enumerable.Range(0, count));
        var inRun = new Arrivals(); // from the first step to the last: the whole time a run is in its steps
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var mismatches = new ConcurrentQueue<string>();
        var runIds = new ConcurrentDictionary<int, ConcurrentBag<long>>();
        void Check(int item, string step)
        {
            var context = TaskRunContext.Current;
            if (context?.Position != new SourcePosition("orders", 1, item) || TaskData.Current?.TaskName != "direct")
            {
                mismatches.Enqueue($"{step} of item {item} saw {context?.Position}");
            }

            runIds.GetOrAdd(item, _ => []).Add(context?.RunId ?? -1);
        }

        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("direct", task => task
                .ReadFrom(input)
                .WithMaxInFlight(limit)
                .Process(async (i, ct) =>
                {
                    inRun.Enter();
                    Check(i, "first");
                    await Task.Yield();
                    return i;
                })
                .Process(async (i, ct) =>
                {
                    Check(i, "second");
                    if (i < limit)
                    {
                        await gate.Task.WaitAsync(ct); // hold the first runs between two awaits: the task is full
                    }
                    else
                    {
                        await Task.Delay(1, ct);
                    }

                    Check(i, "second-after-await");
                    return i;
                })
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    Check(i, "third");
                    inRun.Leave();
                    return i;
                })),
            options =>
            {
                options.WorkerThreads = 32; // more workers than slots: only the in-flight limit bounds concurrency
                options.IdlePollInterval = TimeSpan.FromMilliseconds(1);
            });

        await harness.StartAsync();
        await inRun.WaitForAsync(limit);
        harness.Engine.GetStatistics("direct").InFlight.Should().Be(limit);
        inRun.Present.Should().Be(limit, "no run beyond the limit started while the first ones wait");
        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(count);
        await harness.StopAsync();

        inRun.MaxPresent.Should().Be(limit);
        input.MaxOutstanding.Should().Be(limit);
        input.Violations.Should().BeEmpty();
        mismatches.Should().BeEmpty();
        runIds.Should().HaveCount(count);
        runIds.Values.Should().AllSatisfy(ids => ids.Distinct().Should().ContainSingle());
        runIds.Values.Select(ids => ids.First()).Should().OnlyHaveUniqueItems();
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task AwaitingStepsInARow_OrderByKey_SameKeyNeverOverlapsAndStartsInReadOrder()
    {
        const int Keys = 6;
        const int PerKey = 30;
        var input = new ScriptedInput<(string Key, int Seq)>();
        for (var i = 0; i < Keys * PerKey; i++)
        {
            input.Add(($"k{i % Keys}", i / Keys));
        }

        var present = new ConcurrentDictionary<string, Arrivals>();
        var started = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<(string Key, int Seq)>("by-key-direct", task => task
                .ReadFrom(input)
                .WithMaxInFlight(64)
                .OrderByKey(item => item.Key)
                .Process(async (item, ct) =>
                {
                    present.GetOrAdd(item.Key, _ => new Arrivals()).Enter();
                    started.GetOrAdd(item.Key, _ => new ConcurrentQueue<int>()).Enqueue(item.Seq);
                    await Task.Yield(); // resumes straight on a worker: the next run of the key must still wait
                    return item;
                })
                .Process(async (item, ct) =>
                {
                    await Task.Delay(1, ct);
                    return item;
                })
                .Process(async (item, ct) =>
                {
                    await Task.Yield();
                    present[item.Key].Leave();
                    return item;
                })),
            options: o => o.WorkerThreads = 16);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(Keys * PerKey);

        started.Should().HaveCount(Keys);
        started.Values.Should().AllSatisfy(seqs => seqs.Should().Equal(Enumerable.Range(0, PerKey)));
        present.Values.Should().AllSatisfy(a => a.MaxPresent.Should().Be(1));
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }
}
