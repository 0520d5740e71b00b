using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Ordering;

/// <summary>
/// Ordering by key and by partition: runs with the same key start in read order and never overlap, a slow or retrying
/// key holds only itself, waiting runs hold in-flight slots, and a key that cannot be told takes the error path.
/// </summary>
public class OrderingTests
{
    private sealed record Keyed(string? Key, int Seq)
    {
        public override string ToString() => $"{Key}{Seq}";
    }

    [Fact]
    public async Task OrderByKey_ManyKeys_SameKeyNeverOverlapsAndStartsInReadOrder()
    {
        const int Keys = 8;
        const int PerKey = 25;
        var input = new ScriptedInput<Keyed>();
        for (var i = 0; i < Keys * PerKey; i++)
        {
            input.Add(new Keyed($"k{i % Keys}", i / Keys));
        }

        var present = new ConcurrentDictionary<string, Arrivals>();
        var started = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<Keyed>("by-key", task => task
                .ReadFrom(input)
                .WithMaxInFlight(64)
                .OrderByKey(item => item.Key)
                .Process(async (item, ct) =>
                {
                    var arrivals = present.GetOrAdd(item.Key!, _ => new Arrivals());
                    arrivals.Enter();
                    started.GetOrAdd(item.Key!, _ => new ConcurrentQueue<int>()).Enqueue(item.Seq);
                    await Task.Yield(); // the run leaves its worker: another run of the same key could start now if allowed
                    Thread.SpinWait(1_000);
                    arrivals.Leave();
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

    [Fact]
    public async Task OrderByKey_SlowKey_HoldsOnlyItsOwnKey()
    {
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("a", 0), new Keyed("a", 1));
        input.Add(Enumerable.Range(0, 10).Select(i => new Keyed("b", i)));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new ConcurrentQueue<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("slow-key", task => task
            .ReadFrom(input)
            .OrderByKey(item => item.Key)
            .Process(async (item, ct) =>
            {
                started.Enqueue(item.ToString());
                if (item == new Keyed("a", 0))
                {
                    await gate.Task.WaitAsync(ct);
                }

                return item;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(10); // every b, while a0 is held

        started.Should().Contain("a0").And.NotContain("a1", "a1 waits for a0, the run before it with the same key");
        input.Acknowledged.Should().Be(10);
        harness.Engine.GetStatistics("slow-key").InFlight.Should().Be(2, "a1 waits holding its slot");

        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(12);
        started.Last().Should().Be("a1");
        input.OutcomeAt(1).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task OrderByKey_RetryingRun_HoldsOnlyItsKeyUntilTheRetrySucceeds()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("a", 0), new Keyed("a", 1), new Keyed("b", 0));
        var started = new ConcurrentQueue<string>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<Keyed>("retrying-key", task => task
                .ReadFrom(input)
                .OrderByKey(item => item.Key)
                .WithRetry(2, TimeSpan.FromSeconds(10))
                .Process(item =>
                {
                    var attempt = TaskRunContext.Current!.Attempt;
                    started.Enqueue($"{item}#{attempt}");
                    return item == new Keyed("a", 0) && attempt == 1 ? throw new TimeoutException("backend slow") : item;
                })),
            timeProvider: time);

        await harness.StartAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        await input.WaitForAcknowledgementsAsync(1);

        started.Should().BeEquivalentTo(["a0#1", "b0#1"], "a1 waits behind the retrying a0; b0 does not");
        time.Advance(TimeSpan.FromSeconds(10));
        await input.WaitForAcknowledgementsAsync(3);

        started.Where(s => s.StartsWith('a')).Should().Equal("a0#1", "a0#2", "a1#1");
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }

    [Fact]
    public async Task OrderByKey_WaitingRuns_CountTowardTheInFlightLimit()
    {
        var input = new ScriptedInput<Keyed> { Bound = 3 };
        input.Add(Enumerable.Range(0, 10).Select(i => new Keyed("hot", i)));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new Arrivals();
        var order = new ConcurrentQueue<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("hot-key", task => task
            .ReadFrom(input)
            .WithMaxInFlight(3)
            .OrderByKey(item => item.Key)
            .Process(async (item, ct) =>
            {
                entered.Arrive();
                order.Enqueue(item.Seq);
                if (item.Seq == 0)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return item;
            })));

        await harness.StartAsync();
        await entered.WaitForAsync(1);

        input.HandedOut.Should().Be(3, "the two runs waiting behind the first hold the task's other slots");
        harness.Engine.GetStatistics("hot-key").InFlight.Should().Be(3);
        entered.Count.Should().Be(1);

        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(10);
        order.Should().Equal(Enumerable.Range(0, 10));
        input.MaxOutstanding.Should().Be(3);
        input.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task OrderByKey_SelectorThrowsOrReturnsNull_ItemTakesTheErrorPathAndOthersGoOn()
    {
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("ok", 0), new Keyed("boom", 0), new Keyed(null, 0), new Keyed("ok", 1));
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        var output = new InMemoryOutput<Keyed>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("bad-selector", task => task
            .ReadFrom(input)
            .OrderByKey(item => item.Key == "boom" ? throw new FormatException("no account id") : item.Key)
            .DeadLetterTo(deadLetters)
            .Process(item => item)
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(4);

        output.Items.Should().Equal(new Keyed("ok", 0), new Keyed("ok", 1));
        deadLetters.Items.Should().HaveCount(2).And.OnlyContain(f => f.StepName == "order-key");
        deadLetters.Items.Select(f => f.Item).Should().BeEquivalentTo(new object[] { new Keyed("boom", 0), new Keyed(null, 0) });
        deadLetters.Items.Should().ContainSingle(f => f.Exception is FormatException);
        deadLetters.Items.Should().ContainSingle(f => f.Exception.Message.Contains("task 'bad-selector' (OrderByKey) returned null", StringComparison.Ordinal));
        input.OutcomeAt(1).Should().Be(RunOutcome.Failed);
        input.OutcomeAt(2).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task OrderByKey_SourceKeys_ComparedByContentAndCarriedByTheRun()
    {
        var input = new ScriptedInput<int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var keys = new ConcurrentQueue<string>();
        var started = new ConcurrentQueue<int>();
        input.AddKeyed(0, new byte[] { 1, 2 }).AddKeyed(1, new byte[] { 1, 2 }).AddKeyed(2, new byte[] { 3 }).AddKeyed(3, null);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("source-key", task => task
            .ReadFrom(input)
            .OrderByKey()
            .DeadLetterTo(deadLetters)
            .Process(async (item, ct) =>
            {
                started.Enqueue(item);
                keys.Enqueue(Convert.ToHexString((byte[])TaskRunContext.Current!.Key!));
                if (item == 0)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return item;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2); // item 2 (another key) and item 3 (no key: the error path)

        started.Should().BeEquivalentTo([0, 2], "item 1 has a key equal in content to item 0's, in another array");
        deadLetters.Items.Should().ContainSingle().Which.Exception.Message.Should().Contain("the item has no key");
        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(4);
        keys.Should().BeEquivalentTo(["0102", "0102", "03"]);
        started.Should().EndWith(1);
    }

    [Fact]
    public async Task OrderByPartition_TwoPartitions_OneRunAtATimePerPartition()
    {
        var p0 = new ScriptedInput<int>("topic", partition: 0);
        var p1 = new ScriptedInput<int>("topic", partition: 1);
        p0.Add(0, 1, 2);
        p1.Add(10, 11, 12);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new ConcurrentQueue<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("by-partition", task => task
            .ReadFrom(p0)
            .ReadFrom(p1)
            .OrderByPartition()
            .Process(async (item, ct) =>
            {
                started.Enqueue(item);
                if (item == 0)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return item;
            })));

        await harness.StartAsync();
        await p1.WaitForAcknowledgementsAsync(3);

        started.Should().BeEquivalentTo([0, 10, 11, 12], "partition 0 waits for its first run; partition 1 goes on");
        started.Where(i => i >= 10).Should().Equal(10, 11, 12);
        gate.SetResult();
        await p0.WaitForAcknowledgementsAsync(3);
        started.Where(i => i < 10).Should().Equal(0, 1, 2);
    }

    [Fact]
    public async Task OrderByKey_InjectedItems_AreNotHeldBehindTheirKey()
    {
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("a", 0));
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new Arrivals();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("inject-ordered", task => task
            .ReadFrom(input)
            .OrderByKey(item => item.Key)
            .Process(async (item, ct) =>
            {
                entered.Arrive();
                if (item.Seq == 0)
                {
                    await gate.Task.WaitAsync(ct);
                }

                return item;
            })));

        await harness.StartAsync();
        await entered.WaitForAsync(1);
        var result = await harness.Engine.InjectAsync("inject-ordered", new Keyed("a", 1)).Within("the injected run");

        result.Outcome.Should().Be(RunOutcome.Completed);
        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(1);
    }

    [Fact]
    public void AddTask_OrderingSetTwice_FailsNamingTheTaskAndTheSetting()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<Keyed>("twice", task => task
            .ReadFrom(new ScriptedInput<Keyed>())
            .OrderByKey(item => item.Key)
            .OrderByPartition()));
        var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("twice");
        error.Setting.Should().Be("Ordering");
        error.Message.Should().Contain("OrderByKey(selector), then OrderByPartition()");
    }
}
