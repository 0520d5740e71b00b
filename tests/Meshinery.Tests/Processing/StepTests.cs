using System.Collections.Concurrent;

namespace Meshinery.Tests.Processing;

/// <summary>Processors, filters, side effects and outputs, one by one.</summary>
public class StepTests
{
    [Fact]
    public async Task Process_SyncAndAsyncSteps_ChangeTheItemTypeAlongTheChain()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("types", task => task
            .ReadFrom(input)
            .Process(i => i * 1.5)
            .Process(async (d, ct) =>
            {
                await Task.Yield();
                return (decimal)d;
            })
            .Process(m => $"{m:0.0}")
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        output.Items.Should().BeEquivalentTo(["1.5", "3.0", "4.5"]);
    }

    [Fact]
    public async Task Process_AsyncStepCompletingSynchronously_Continues()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("sync-async", task => task
            .ReadFrom(input)
            .Process((i, ct) => ValueTask.FromResult(i + 10))
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        output.Items.Should().BeEquivalentTo([11, 12]);
    }

    [Fact]
    public async Task Process_AsyncStepThrowsBeforeItsFirstAwait_FaultsTheRun()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var failures = new ConcurrentBag<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("throws-early", task => task
            .ReadFrom(input)
            .Process<int>((i, ct) => throw new InvalidOperationException("synchronous throw"), "early")
            .OnError(failure =>
            {
                failures.Add(failure);
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        failures.Should().ContainSingle().Which.StepName.Should().Be("early");
    }

    [Fact]
    public async Task Process_AsyncStep_ReceivesTheRunsCancellationToken()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var tokens = new ConcurrentBag<(CancellationToken Step, CancellationToken Context)>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("token", task => task
            .ReadFrom(input)
            .Process((i, ct) =>
            {
                tokens.Add((ct, TaskRunContext.Current!.CancellationToken));
                return ValueTask.FromResult(i);
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        var (step, context) = tokens.Should().ContainSingle().Subject;
        step.Should().Be(context);
        step.CanBeCanceled.Should().BeTrue();
        step.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task Where_PredicateFalse_ItemIsDroppedNotWrittenAndAcknowledgedDropped()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var output = new InMemoryOutput<int>();
        var after = 0;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("filter", task => task
            .ReadFrom(input)
            .Where(i => i % 2 == 0)
            .Do(_ => Interlocked.Increment(ref after))
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(10);

        output.Items.Order().Should().Equal(0, 2, 4, 6, 8);
        after.Should().Be(5, "steps after the filter never see dropped items");
        Enumerable.Range(0, 10).Where(i => i % 2 == 1).Should().OnlyContain(i => input.OutcomeAt(i) == RunOutcome.Dropped);
        await harness.StopAsync();
        harness.Engine.GetStatistics("filter").Dropped.Should().Be(5);
    }

    [Fact]
    public async Task Do_SyncAndAsyncSideEffects_RunAndPassTheItemOnUnchanged()
    {
        var input = new ScriptedInput<string>();
        input.Add("a", "b");
        var output = new InMemoryOutput<string>();
        var syncSeen = new ConcurrentBag<string>();
        var asyncSeen = new ConcurrentBag<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<string>("side-effects", task => task
            .ReadFrom(input)
            .Do(syncSeen.Add)
            .Do(async (s, ct) =>
            {
                await Task.Yield();
                asyncSeen.Add(s);
            })
            .Do((s, ct) => ValueTask.CompletedTask)
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        syncSeen.Should().BeEquivalentTo(["a", "b"]);
        asyncSeen.Should().BeEquivalentTo(["a", "b"]);
        output.Items.Should().BeEquivalentTo(["a", "b"]);
    }

    [Fact]
    public async Task Do_SideEffectThrows_FaultsTheRun()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("side-effect-throws", task => task
            .ReadFrom(input)
            .Do(async (i, ct) =>
            {
                await Task.Yield();
                throw new InvalidOperationException("audit log down");
            })
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Count.Should().Be(0);
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task WriteTo_WithCondition_WritesOnlyMatchingItemsAndPassesAllOn()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(1, 6));
        var big = new InMemoryOutput<int>("big");
        var all = new InMemoryOutput<int>("all");
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("conditional", task => task
            .ReadFrom(input)
            .WriteTo(big, i => i > 3)
            .WriteTo(all)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(6);

        big.Items.Order().Should().Equal(4, 5, 6);
        all.Items.Order().Should().Equal(1, 2, 3, 4, 5, 6);
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task WriteTo_OutputSharedByTwoTasks_StartedAndStoppedOnce()
    {
        var first = new ScriptedInput<int>("first");
        var second = new ScriptedInput<int>("second");
        first.Add(1);
        second.Add(2);
        var shared = new ScriptedOutput<int>("shared");
        var deadLetters = new ScriptedOutput<ProcessingFailure>("dead-letters");
        await using var harness = EngineHarness.Create(mesh => mesh
            .AddTask<int>("first", task => task.ReadFrom(first).WriteTo(shared).DeadLetterTo(deadLetters))
            .AddTask<int>("second", task => task.ReadFrom(second).WriteTo(shared).DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await shared.WaitForCountAsync(2);
        await harness.StopAsync();

        shared.StartCount.Should().Be(1);
        shared.StopCount.Should().Be(1);
        deadLetters.StartCount.Should().Be(1);
        deadLetters.StopCount.Should().Be(1);
    }

    [Fact]
    public async Task Process_ValueTypeItems_KeepTheirValuesAcrossSteps()
    {
        // Value types are boxed once per run and the box is reused; each run must still see its own values.
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 500));
        var output = new InMemoryOutput<(int, long)>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("value-types", task => task
            .ReadFrom(input)
            .Process(i => (long)i * 3)
            .Process(async (l, ct) =>
            {
                await Task.Yield();
                return l + 1;
            })
            .Process(l => ((int)((l - 1) / 3), l))
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(500);

        output.Items.Should().OnlyContain(pair => pair.Item2 == (pair.Item1 * 3L) + 1);
        output.Items.Select(pair => pair.Item1).Order().Should().Equal(Enumerable.Range(0, 500));
    }
}
