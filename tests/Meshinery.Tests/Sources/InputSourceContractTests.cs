namespace Meshinery.Tests.Sources;

/// <summary>
/// What every input source must do, run against each implementation (derive and implement the three hooks): hand
/// out at most the buffer's length, every item once with distinct positions named after the source, report drained
/// only at the end, and wake the engine when items arrive.
/// </summary>
public abstract class InputSourceContractTests
{
    /// <summary>Creates an empty source.</summary>
    protected abstract InputSource<int> CreateSource(string name);

    /// <summary>Adds an item to the source.</summary>
    protected abstract ValueTask AddAsync(InputSource<int> source, int item);

    /// <summary>Declares that no more items will be added.</summary>
    protected abstract void Complete(InputSource<int> source);

    [Fact]
    public void Poll_NothingAdded_ReturnsZero()
    {
        var source = CreateSource("contract");

        source.Poll(new SourceItem<int>[8]).Should().Be(0);
    }

    [Fact]
    public async Task Poll_BufferSmallerThanBacklog_ReturnsAtMostTheBufferLength()
    {
        var source = CreateSource("contract");
        for (var i = 0; i < 10; i++)
        {
            await AddAsync(source, i);
        }

        var buffer = new SourceItem<int>[16];
        source.Poll(buffer.AsSpan(0, 3)).Should().Be(3);
        buffer.Skip(3).Should().OnlyContain(item => item.Acknowledger == null, "nothing is written past the span");
        source.Poll(buffer.AsSpan(0, 0)).Should().Be(0);
    }

    [Fact]
    public async Task Poll_UntilEmpty_ReturnsEveryItemOnceInOrderWithDistinctPositions()
    {
        var source = CreateSource("contract");
        for (var i = 0; i < 25; i++)
        {
            await AddAsync(source, i);
        }

        var items = new List<SourceItem<int>>();
        var buffer = new SourceItem<int>[4];
        int count;
        while ((count = source.Poll(buffer)) > 0)
        {
            items.AddRange(buffer.Take(count));
        }

        items.Select(item => item.Value).Should().Equal(Enumerable.Range(0, 25));
        items.Select(item => item.Position).Should().OnlyHaveUniqueItems();
        items.Should().OnlyContain(item => item.Position.Source == "contract" && item.Acknowledger != null && item.ReadError == null);
    }

    [Fact]
    public async Task IsDrained_OnlyOnceCompletedAndEverythingRead()
    {
        var source = CreateSource("contract");
        await AddAsync(source, 1);
        source.IsDrained.Should().BeFalse();
        Complete(source);
        source.IsDrained.Should().BeFalse("an item is still unread");

        source.Poll(new SourceItem<int>[4]).Should().Be(1);

        source.IsDrained.Should().BeTrue();
    }

    [Fact]
    public async Task Engine_ItemsAddedWhileIdle_SourceWakesTheEngine()
    {
        var source = CreateSource("contract");
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("wake", task => task.ReadFrom(source).WriteTo(output)),
            options => options.IdlePollInterval = TimeSpan.FromHours(1)); // without a wake-up nothing is read for an hour
        await harness.StartAsync();

        for (var i = 0; i < 20; i++)
        {
            await AddAsync(source, i);
        }

        await output.WaitForCountAsync(20, Deadline.Token()).Within("the source to wake the engine");
        output.Items.Order().Should().Equal(Enumerable.Range(0, 20));
    }

    [Fact]
    public async Task Engine_BatchMode_ProcessesEveryItemOnceAndStops()
    {
        var source = CreateSource("contract");
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("batch", task => task.ReadFrom(source).WriteTo(output)),
            options =>
            {
                options.StopWhenDrained = true;
                options.IdlePollInterval = TimeSpan.FromHours(1); // the source's and the last run's wake-ups end the batch
            });
        await harness.StartAsync();

        for (var i = 0; i < 300; i++)
        {
            await AddAsync(source, i);
        }

        Complete(source);
        await harness.Engine.Completion.Within("batch mode to stop the engine");

        output.Items.Order().Should().Equal(Enumerable.Range(0, 300));
        harness.Engine.GetStatistics("batch").Completed.Should().Be(300);
    }
}

public class InMemoryInputContractTests : InputSourceContractTests
{
    protected override InputSource<int> CreateSource(string name) => new InMemoryInput<int>(name);

    protected override ValueTask AddAsync(InputSource<int> source, int item) => ((InMemoryInput<int>)source).WriteAsync(item);

    protected override void Complete(InputSource<int> source) => ((InMemoryInput<int>)source).Complete();
}

/// <summary>The test double other tests rely on honours the contract too.</summary>
public class ScriptedInputContractTests : InputSourceContractTests
{
    protected override InputSource<int> CreateSource(string name) => new ScriptedInput<int>(name);

    protected override ValueTask AddAsync(InputSource<int> source, int item)
    {
        ((ScriptedInput<int>)source).Add(item);
        return default;
    }

    protected override void Complete(InputSource<int> source) => ((ScriptedInput<int>)source).Complete();
}
