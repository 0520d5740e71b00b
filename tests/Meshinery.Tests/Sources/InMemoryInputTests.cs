using System.Threading.Channels;

namespace Meshinery.Tests.Sources;

/// <summary>The bounded in-memory input: back-pressure on writers, completion, acknowledgement counters.</summary>
public class InMemoryInputTests
{
    [Fact]
    public void Constructor_Defaults_NameMemoryAndCapacity10000()
    {
        var input = new InMemoryInput<int>();

        input.Name.Should().Be("memory");
        input.Capacity.Should().Be(10_000);
        input.Backlog.Should().Be(0);
        input.IsDrained.Should().BeFalse();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Constructor_CapacityBelowOne_Throws(int capacity)
    {
        var create = () => new InMemoryInput<int>("memory", capacity);

        create.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Poll_Items_HavePartitionZeroAndOffsetsCountingFromOne()
    {
        var input = new InMemoryInput<string>("names");
        input.TryWrite("a").Should().BeTrue();
        input.TryWrite("b").Should().BeTrue();

        var buffer = new SourceItem<string>[4];
        input.Poll(buffer).Should().Be(2);

        buffer[0].Position.Should().Be(new SourcePosition("names", 0, 1));
        buffer[1].Position.Should().Be(new SourcePosition("names", 0, 2));
        buffer[0].Acknowledger.Should().BeSameAs(input);
        input.Written.Should().Be(2);
    }

    [Fact]
    public void TryWrite_Full_ReturnsFalseAndDoesNotCountTheItem()
    {
        var input = new InMemoryInput<int>("small", capacity: 2);

        input.TryWrite(1).Should().BeTrue();
        input.TryWrite(2).Should().BeTrue();
        input.TryWrite(3).Should().BeFalse();

        input.Written.Should().Be(2);
        input.Backlog.Should().Be(2);
    }

    [Fact]
    public async Task WriteAsync_Full_WaitsUntilTheTaskReadsAnItem()
    {
        var input = new InMemoryInput<int>("small", capacity: 1);
        await input.WriteAsync(1).Within("the first write");

        var second = input.WriteAsync(2).AsTask();
        second.IsCompleted.Should().BeFalse("the input is full");
        input.Poll(new SourceItem<int>[1]).Should().Be(1);

        await second.Within("the second write once there is room");
        input.Backlog.Should().Be(1);
    }

    [Fact]
    public async Task WriteAsync_FullAndCancelled_ThrowsAndDoesNotCountTheItem()
    {
        var input = new InMemoryInput<int>("small", capacity: 1);
        await input.WriteAsync(1);
        using var cts = new CancellationTokenSource();

        var write = input.WriteAsync(2, cts.Token).AsTask();
        await cts.CancelAsync();

        var wait = () => write;
        await wait.Should().ThrowAsync<OperationCanceledException>();
        input.Written.Should().Be(1);
    }

    [Fact]
    public async Task WriteAsync_AfterComplete_ThrowsChannelClosed()
    {
        var input = new InMemoryInput<int>();
        input.Complete();

        var write = () => input.WriteAsync(1).AsTask();

        await write.Should().ThrowAsync<ChannelClosedException>();
        input.Written.Should().Be(0);
    }

    [Fact]
    public void Acknowledge_EachOutcome_IsCounted()
    {
        var input = new InMemoryInput<int>();
        IAcknowledger acknowledger = input;
        var position = new SourcePosition("memory", 0, 1);

        acknowledger.Acknowledge(position, RunOutcome.Completed);
        acknowledger.Acknowledge(position, RunOutcome.Completed);
        acknowledger.Acknowledge(position, RunOutcome.Dropped);
        acknowledger.Acknowledge(position, RunOutcome.Failed);
        acknowledger.Acknowledge(position, RunOutcome.Abandoned);

        input.Completed.Should().Be(2);
        input.Dropped.Should().Be(1);
        input.Failed.Should().Be(1);
        input.Abandoned.Should().Be(1);
        input.Acknowledged.Should().Be(5);
    }

    [Fact]
    public void AllAcknowledged_CompletesOnlyWhenCompletedReadAndEveryItemAcknowledged()
    {
        var input = new InMemoryInput<int>();
        input.TryWrite(1);
        input.TryWrite(2);
        input.Complete();
        var buffer = new SourceItem<int>[2];
        input.Poll(buffer).Should().Be(2);

        ((IAcknowledger)input).Acknowledge(buffer[0].Position, RunOutcome.Completed);
        input.AllAcknowledged.IsCompleted.Should().BeFalse();
        ((IAcknowledger)input).Acknowledge(buffer[1].Position, RunOutcome.Dropped);

        input.AllAcknowledged.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public void AllAcknowledged_CompletedWithoutItems_CompletesAtOnce()
    {
        var input = new InMemoryInput<int>();

        input.Complete();

        input.AllAcknowledged.IsCompletedSuccessfully.Should().BeTrue();
        input.IsDrained.Should().BeTrue();
    }

    [Fact]
    public async Task Engine_ThroughTheEngine_CountsOutcomesAndAllAcknowledgedCompletes()
    {
        var input = new InMemoryInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("memory-outcomes", task => task
            .ReadFrom(input)
            .Where(i => i % 2 == 0)
            .Process(i => i % 4 == 0 ? throw new InvalidOperationException("bad") : i)));
        await harness.StartAsync();

        for (var i = 0; i < 100; i++)
        {
            await input.WriteAsync(i);
        }

        input.Complete();
        await input.AllAcknowledged.Within("every item acknowledged");

        input.Dropped.Should().Be(50);
        input.Failed.Should().Be(25);
        input.Completed.Should().Be(25);
    }

    [Fact]
    public async Task Engine_ItemsAbandonedAtShutdown_AreCountedAbandoned()
    {
        var input = new InMemoryInput<int>();
        var inStep = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("memory-abandon", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    inStep.Arrive();
                    await Task.Delay(Timeout.Infinite, ct);
                    return i;
                })),
            options => options.DrainTimeout = TimeSpan.Zero);
        await harness.StartAsync();
        await input.WriteAsync(1);
        await inStep.WaitForAsync(1);

        await harness.StopAsync();

        input.Abandoned.Should().Be(1);
    }
}
