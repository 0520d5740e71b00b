using System.Collections.Concurrent;

namespace Meshinery.Tests.Processing;

/// <summary>
/// FlatMap: the emitted items go through the later steps one after the other inside the one run; the input is
/// acknowledged once, after every emitted item's writes are durable; a failure of any is the run's failure.
/// </summary>
public class FlatMapTests
{
    [Fact]
    public async Task FlatMap_ThreeEmittedItems_AllWrittenBeforeTheInputIsAcknowledgedOnce()
    {
        var input = new ScriptedInput<string>();
        input.Add("a,b,c");
        var output = new ScriptedOutput<string> { CompleteAsynchronously = true };
        var writtenAtAck = new ConcurrentDictionary<long, int>();
        input.OnAcknowledge = (position, _) => writtenAtAck[position.Offset] = output.Count;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<string>("split", task => task
            .ReadFrom(input)
            .FlatMap(line => line.Split(','))
            .Process(part => part.ToUpperInvariant())
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal("A", "B", "C");
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
        input.Duplicates.Should().BeEmpty();
        writtenAtAck[0].Should().Be(3, "the input is acknowledged after its three writes completed");
        harness.Engine.GetStatistics("split").Completed.Should().Be(1, "one run for the input item");
    }

    [Fact]
    public async Task FlatMap_SecondEmittedItemFails_RunTakesTheErrorPathWithThatItemAndTheRestIsNotProcessed()
    {
        var input = new ScriptedInput<int>();
        input.Add(10);
        var output = new InMemoryOutput<int>();
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("split-fails", task => task
            .ReadFrom(input)
            .WithRetry(2, TimeSpan.Zero)
            .DeadLetterTo(deadLetters)
            .FlatMap(n => new[] { n + 1, n + 2, n + 3 })
            .Process(i => i == 12 ? throw new InvalidOperationException("twelve is refused") : i, "check")
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal(11);
        var failure = deadLetters.Items.Should().ContainSingle().Subject;
        failure.StepName.Should().Be("check");
        failure.Item.Should().Be(12);
        failure.Attempts.Should().Be(2, "the failed step was retried for the emitted item");
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task FlatMap_FilterDropsSomeOrAllEmittedItems_RunGoesOnAndEndsDroppedOnlyWhenNothingCameThrough()
    {
        var input = new ScriptedInput<int[]>();
        input.Add([1, -2, 3], [-1, -5], []);
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int[]>("filter-emitted", task => task
            .ReadFrom(input)
            .FlatMap(items => items)
            .Where(i => i > 0)
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        output.Items.Should().Equal(1, 3);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        input.OutcomeAt(1).Should().Be(RunOutcome.Dropped);
        input.OutcomeAt(2).Should().Be(RunOutcome.Dropped);
    }

    [Fact]
    public async Task FlatMap_Nested_EveryInnerItemOfEveryOuterItemIsWritten()
    {
        var input = new ScriptedInput<int>();
        input.Add(2);
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("nested", task => task
            .ReadFrom(input)
            .FlatMap(n => Enumerable.Range(0, n))
            .FlatMap(i => new[] { $"{i}a", $"{i}b" })
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal("0a", "0b", "1a", "1b");
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task FlatMap_ExpandThrows_FailsInTheFlatMapStep()
    {
        var input = new ScriptedInput<string>();
        input.Add("bad");
        var failures = new ConcurrentQueue<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<string>("expand-throws", task => task
            .ReadFrom(input)
            .OnError(failure =>
            {
                failures.Enqueue(failure);
                return ErrorDecision.Drop;
            })
            .FlatMap<string>(_ => throw new FormatException("cannot split"), "split")
            .Process(s => s)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        failures.Should().ContainSingle().Which.StepName.Should().Be("split");
        input.OutcomeAt(0).Should().Be(RunOutcome.Dropped);
    }
}
