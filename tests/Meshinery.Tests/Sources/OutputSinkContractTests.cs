namespace Meshinery.Tests.Sources;

/// <summary>What every output sink must do, run against each implementation: keep every write, also concurrent ones.</summary>
public abstract class OutputSinkContractTests
{
    /// <summary>Creates a sink.</summary>
    protected abstract OutputSink<int> CreateSink(string name);

    /// <summary>Reads back what the sink made durable.</summary>
    protected abstract IReadOnlyList<int> Written(OutputSink<int> sink);

    [Fact]
    public async Task WriteAsync_Items_AreDurableWhenTheWriteCompletes()
    {
        var sink = CreateSink("contract");

        for (var i = 0; i < 5; i++)
        {
            await sink.WriteAsync(i, CancellationToken.None).Within("a write");
            Written(sink).Should().Contain(i);
        }

        Written(sink).Should().Equal(0, 1, 2, 3, 4);
    }

    [Fact]
    public async Task WriteAsync_Concurrently_LosesNothing()
    {
        var sink = CreateSink("contract");

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                await sink.WriteAsync((t * 1_000) + i, CancellationToken.None);
            }
        }))).Within("concurrent writes");

        Written(sink).Order().Should().Equal(Enumerable.Range(0, 8).SelectMany(t => Enumerable.Range(t * 1_000, 250)));
    }

    [Fact]
    public async Task Engine_WritesEveryItemOnce()
    {
        var sink = CreateSink("contract");
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 200));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("sink", task => task.ReadFrom(input).WriteTo(sink)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(200);

        Written(sink).Order().Should().Equal(Enumerable.Range(0, 200));
        sink.Name.Should().Be("contract");
    }
}

public class InMemoryOutputContractTests : OutputSinkContractTests
{
    protected override OutputSink<int> CreateSink(string name) => new InMemoryOutput<int>(name);

    protected override IReadOnlyList<int> Written(OutputSink<int> sink) => ((InMemoryOutput<int>)sink).Items;
}

/// <summary>The test double other tests rely on honours the contract too.</summary>
public class ScriptedOutputContractTests : OutputSinkContractTests
{
    protected override OutputSink<int> CreateSink(string name) => new ScriptedOutput<int>(name) { CompleteAsynchronously = true };

    protected override IReadOnlyList<int> Written(OutputSink<int> sink) => ((ScriptedOutput<int>)sink).Items;
}
