namespace Meshinery.Tests.Sources;

/// <summary>The in-memory output and its wait for a number of items.</summary>
public class InMemoryOutputTests
{
    [Fact]
    public async Task WaitForCountAsync_CountReachedLater_CompletesThen()
    {
        var output = new InMemoryOutput<int>();
        var waiting = output.WaitForCountAsync(3, Deadline.Token());
        var alsoWaiting = output.WaitForCountAsync(1, Deadline.Token());

        await output.WriteAsync(1, CancellationToken.None);
        await alsoWaiting.Within("the first item");
        waiting.IsCompleted.Should().BeFalse();
        await output.WriteAsync(2, CancellationToken.None);
        await output.WriteAsync(3, CancellationToken.None);

        await waiting.Within("three items");
        output.Count.Should().Be(3);
        output.Items.Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task WaitForCountAsync_WriteRacingWithTheCall_IsNeverMissed()
    {
        // A write on another thread at the moment the waiter registers: the race that once left a waiter hanging.
        for (var i = 0; i < 20_000; i++)
        {
            var output = new InMemoryOutput<int>();
            using var start = new Barrier(2);
            var writer = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    return output.WriteAsync(i, CancellationToken.None);
                },
                CancellationToken.None,
                TaskCreationOptions.None,
                TaskScheduler.Default);
            start.SignalAndWait();
            var waiting = output.WaitForCountAsync(1);
            await (await writer);

            await waiting.Within(() => $"the item written concurrently (iteration {i})", TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task WaitForCountAsync_CountAlreadyReached_IsCompleted()
    {
        var output = new InMemoryOutput<int>();
        await output.WriteAsync(1, CancellationToken.None);

        output.WaitForCountAsync(1).IsCompletedSuccessfully.Should().BeTrue();
        output.WaitForCountAsync(0).IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task WaitForCountAsync_Cancelled_ThrowsOperationCanceled()
    {
        var output = new InMemoryOutput<int>();
        using var cts = new CancellationTokenSource();
        var waiting = output.WaitForCountAsync(1, cts.Token);

        await cts.CancelAsync();

        var wait = () => waiting;
        await wait.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public void Constructor_Default_NameIsMemory()
    {
        new InMemoryOutput<int>().Name.Should().Be("memory");
    }
}
