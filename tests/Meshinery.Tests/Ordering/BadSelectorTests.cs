using System.Collections.Concurrent;

namespace Meshinery.Tests.Ordering;

/// <summary>
/// Selectors that fail on an item (an ordering key selector, a priority selector) send that item down the run's error
/// path: the error handler sees the failure with its step and reason, its decision holds, the other items go on, and
/// nothing is lost. A replacement keeps the item's place in its key's order.
/// </summary>
public class BadSelectorTests
{
    private sealed record Keyed(string? Key, int Seq)
    {
        public override string ToString() => $"{Key}{Seq}";
    }

    [Fact]
    public async Task OrderByKey_SelectorThrowsOrReturnsNull_ErrorHandlerGetsTheReasonAndItsDecisionHolds()
    {
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("a", 0), new Keyed("boom", 1), new Keyed(null, 2), new Keyed("a", 3));
        var failures = new ConcurrentQueue<ProcessingFailure>();
        var output = new InMemoryOutput<Keyed>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("bad-key", task => task
            .ReadFrom(input)
            .OrderByKey(item => item.Key == "boom" ? throw new FormatException("no account id") : item.Key)
            .OnError(failure =>
            {
                failures.Enqueue(failure);
                return ErrorDecision.Drop;
            })
            .Process(item => item)
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(4);

        output.Items.Should().Equal(new Keyed("a", 0), new Keyed("a", 3));
        failures.Should().HaveCount(2).And.OnlyContain(f => f.StepName == TaskDefinition.OrderKeyStepName && f.TaskName == "bad-key");
        failures.Should().ContainSingle(f => f.Exception is FormatException && f.Exception.Message == "no account id")
            .Which.Item.Should().Be(new Keyed("boom", 1));
        failures.Should().ContainSingle(f => f.Exception.Message.Contains("(OrderByKey) returned null", StringComparison.Ordinal))
            .Which.Item.Should().Be(new Keyed(null, 2));
        input.OutcomeAt(1).Should().Be(RunOutcome.Dropped);
        input.OutcomeAt(2).Should().Be(RunOutcome.Dropped);
        input.Outcomes.Should().HaveCount(4, "every item is acknowledged");
    }

    [Fact]
    public async Task WithPriority_SelectorThrowsOnAKeyOrderedTask_HandlerGetsTheReasonAndTheReplacementKeepsItsKeysOrder()
    {
        var input = new ScriptedInput<Keyed>();
        input.Add(new Keyed("a", 0), new Keyed("a", 1), new Keyed("a", 2), new Keyed("b", 3));
        var failures = new ConcurrentQueue<ProcessingFailure>();
        var events = new ConcurrentQueue<string>();
        var firstRunning = new Arrivals();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<Keyed>("bad-priority", task => task
            .ReadFrom(input)
            .OrderByKey(item => item.Key)
            .WithPriority(item => item.Seq == 1 ? throw new ArgumentOutOfRangeException(nameof(item), "no rank for 1") : item.Seq > 2)
            .OnError(failure =>
            {
                failures.Enqueue(failure);
                return ErrorDecision.Continue(new Keyed("a", 10)); // the replacement of a1
            })
            .Do(item =>
            {
                events.Enqueue($"start {item}");
                if (item.Seq == 0)
                {
                    firstRunning.Arrive();
                    gate.WaitOrFail("the test to let a0 finish");
                }

                events.Enqueue($"end {item}");
            })));

        await harness.StartAsync();
        var ordering = (KeyOrderingPolicy)harness.Engine.Runtime("bad-priority").Ordering;

        // a0 runs; the failed a1 (its replacement) and a2 wait behind it; b3 is not held by key a.
        await firstRunning.WaitForAsync(1);
        await input.WaitForAcknowledgementsAsync(1);
        input.OutcomeAt(3).Should().Be(RunOutcome.Completed);
        SpinWait.SpinUntil(() => ordering.Waiting == 2, Deadline.Default)
            .Should().BeTrue($"the failed run waits behind a0 like a2 (waiting: {ordering.Waiting}, steps: {string.Join(", ", events)})");
        gate.Set();
        await input.WaitForAcknowledgementsAsync(4);

        failures.Should().ContainSingle().Which.Should().Match<ProcessingFailure>(f =>
            f.StepName == PriorityPolicy.StepName && f.Exception is ArgumentOutOfRangeException
            && f.Exception.Message.StartsWith("no rank for 1", StringComparison.Ordinal) && Equals(f.Item, new Keyed("a", 1)));
        events.Where(e => !e.EndsWith("b3", StringComparison.Ordinal))
            .Should().Equal("start a0", "end a0", "start a10", "end a10", "start a2", "end a2");
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }
}
