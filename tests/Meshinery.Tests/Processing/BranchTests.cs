namespace Meshinery.Tests.Processing;

/// <summary>A branch routes each item down the first matching path, which has its own steps and outputs.</summary>
public class BranchTests
{
    [Fact]
    public async Task Branch_Items_TakeTheFirstMatchingPathWithItsOwnStepsAndOutputs()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 30));
        var fizz = new InMemoryOutput<string>("fizz");
        var buzz = new InMemoryOutput<string>("buzz");
        var other = new InMemoryOutput<int>("other");
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("route", task => task
            .ReadFrom(input)
            .Process(i => i + 1)
            .Branch(paths => paths
                .When(i => i % 3 == 0, path => path.Process(i => $"fizz {i}").WriteTo(fizz))
                .When(i => i % 5 == 0, path => path.Process(async (i, ct) =>
                {
                    await Task.Yield();
                    return $"buzz {i}";
                }).WriteTo(buzz))
                .Otherwise(path => path.WriteTo(other)))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(30);

        var numbers = Enumerable.Range(1, 30).ToList();
        fizz.Items.Should().BeEquivalentTo(numbers.Where(i => i % 3 == 0).Select(i => $"fizz {i}"), "15 and 30 take the first matching path");
        buzz.Items.Should().BeEquivalentTo(numbers.Where(i => i % 5 == 0 && i % 3 != 0).Select(i => $"buzz {i}"));
        other.Items.Should().BeEquivalentTo(numbers.Where(i => i % 3 != 0 && i % 5 != 0));
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task Branch_NoPathMatchesAndNoOtherwise_ItemIsDropped()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        var even = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("unmatched", task => task
            .ReadFrom(input)
            .Branch(paths => paths.When(i => i % 2 == 0, path => path.WriteTo(even)))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        even.Items.Should().Equal(2);
        input.OutcomeAt(0).Should().Be(RunOutcome.Dropped);
        input.OutcomeAt(1).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task Branch_StepInPathFails_ReplacementContinuesInThatPath()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("path-error", task => task
            .ReadFrom(input)
            .OnError(_ => ErrorDecision.Continue("replaced"))
            .Branch(paths => paths.Otherwise(path => path
                .Process(i => i == 2 ? throw new InvalidOperationException("bad") : $"ok {i}")
                .Process(s => s.ToUpperInvariant())
                .WriteTo(output)))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        output.Items.Should().BeEquivalentTo(["OK 1", "REPLACED"]);
    }

    [Fact]
    public async Task Branch_Nested_RoutesThroughBothLevels()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 8));
        var outputs = Enumerable.Range(0, 4).Select(i => new InMemoryOutput<int>($"out-{i}")).ToArray();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("nested", task => task
            .ReadFrom(input)
            .Branch(outer => outer
                .When(i => i < 4, low => low.Branch(inner => inner
                    .When(i => i % 2 == 0, path => path.WriteTo(outputs[0]))
                    .Otherwise(path => path.WriteTo(outputs[1]))))
                .Otherwise(high => high.Branch(inner => inner
                    .When(i => i % 2 == 0, path => path.WriteTo(outputs[2]))
                    .Otherwise(path => path.WriteTo(outputs[3])))))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(8);

        outputs[0].Items.Order().Should().Equal(0, 2);
        outputs[1].Items.Order().Should().Equal(1, 3);
        outputs[2].Items.Order().Should().Equal(4, 6);
        outputs[3].Items.Order().Should().Equal(5, 7);
    }
}
