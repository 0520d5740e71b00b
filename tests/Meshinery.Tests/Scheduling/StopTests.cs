using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Scheduling;

/// <summary>
/// Stopping: polling stops, in-flight runs drain, runs still going at the drain timeout are cancelled, and the engine's
/// lifecycle (start once, stop many times, batch mode) behaves. The drain timeout and grace period run on a manual
/// clock: the test waits until the engine armed the timer, then moves the clock past it.
/// </summary>
public class StopTests
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan GracePeriod = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task StopAsync_RunsInFlight_WaitsForThemAndReadsNothingMore()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var output = new InMemoryOutput<int>();
        var inStep = new Arrivals();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("drain", task => task
                .ReadFrom(input)
                .WithMaxInFlight(4)
                .Process(i =>
                {
                    inStep.Arrive();
                    gate.WaitOrFail("the test to let the runs finish");
                    return i;
                })
                .WriteTo(output)),
            Configure,
            time);
        await harness.StartAsync();
        await inStep.WaitForAsync(4);

        var stop = harness.Engine.StopAsync();
        await time.WaitForTimerAsync(DrainTimeout); // polling has stopped; the engine waits for the runs
        stop.IsCompleted.Should().BeFalse("four runs are still in flight and the drain timeout has not passed");
        gate.Set();
        await stop.Within("the engine to stop once the runs finished");

        input.Outcomes.Values.Should().HaveCount(4).And.OnlyContain(o => o == RunOutcome.Completed);
        output.Items.Should().HaveCount(4);
        input.HandedOut.Should().Be(4, "nothing is read after stopping began");
        input.Backlog.Should().Be(6);
        input.StopCount.Should().Be(1);
        input.AcknowledgedAtStop.Should().Be(4, "sources are stopped after every acknowledgement was delivered");
        harness.Engine.Completion.IsCompletedSuccessfully.Should().BeTrue();
        harness.Logs.GetSnapshot().Should().NotContain(r => r.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task StopAsync_RunsOutlastDrainTimeout_AreCancelledAndAbandoned()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 3));
        var inStep = new Arrivals();
        var cancelled = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("cancel", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    inStep.Arrive();
                    try
                    {
                        await Task.Delay(Timeout.Infinite, ct); // a call that only ends when cancelled
                    }
                    catch (OperationCanceledException)
                    {
                        cancelled.Arrive();
                        throw;
                    }

                    return i;
                })),
            Configure,
            time);
        await harness.StartAsync();
        await inStep.WaitForAsync(3);

        var stop = harness.Engine.StopAsync();
        await time.WaitForTimerAsync(DrainTimeout);
        time.Advance(DrainTimeout - TimeSpan.FromMilliseconds(1));
        stop.IsCompleted.Should().BeFalse();
        cancelled.Count.Should().Be(0, "the drain timeout has not passed yet");
        time.Advance(TimeSpan.FromMilliseconds(1));
        await stop.Within("the engine to stop after cancelling the runs");

        cancelled.Count.Should().Be(3);
        input.Outcomes.Values.Should().HaveCount(3).And.OnlyContain(o => o == RunOutcome.Abandoned);
        harness.Engine.GetStatistics("cancel").Abandoned.Should().Be(3);
        harness.Logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Warning && r.Message.Contains("at the end of the drain", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StopAsync_StepIgnoresCancellation_GivesUpAfterGracePeriodWithoutAcknowledging()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var inStep = new Arrivals();
        using var gate = new ManualResetEventSlim();
        Thread? worker = null;
        await using (var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("stuck", task => task
                .ReadFrom(input)
                .Process(i =>
                {
                    worker = Thread.CurrentThread;
                    inStep.Arrive();
                    gate.WaitOrFail("the test to release the stuck step"); // ignores the cancellation token
                    return i;
                })),
            Configure,
            time))
        {
            await harness.StartAsync();
            await inStep.WaitForAsync(1);

            var stop = harness.Engine.StopAsync();
            await time.WaitForTimerAsync(DrainTimeout);
            time.Advance(DrainTimeout);
            await time.WaitForTimerAsync(GracePeriod);
            stop.IsCompleted.Should().BeFalse();
            time.Advance(GracePeriod);
            await stop.Within("the engine to give up on the stuck run");

            input.Acknowledged.Should().Be(0, "a run that never ended is not acknowledged");
            input.StopCount.Should().Be(1);
            harness.Logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Warning && r.Message.Contains("did not end within", StringComparison.Ordinal));
        }

        // The engine is disposed; the step returns now. Its worker must finish quietly (not crash the process).
        gate.Set();
        worker!.Join(Deadline.Default).Should().BeTrue("the worker thread exits once its step returns");
    }

    [Fact]
    public async Task DisposeAsync_AsyncStepCompletesAfterEngineDisposed_EndsQuietly()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var inStep = new Arrivals();
        var release = new TaskCompletionSource(); // continuations run synchronously, on the thread that releases
        var afterStep = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("late", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    inStep.Arrive();
                    await release.Task; // ignores the token
                    return i;
                })
                .Process(i =>
                {
                    afterStep.TrySetResult();
                    return i;
                })),
            Configure,
            time))
        {
            await harness.StartAsync();
            await inStep.WaitForAsync(1);
            var stop = harness.Engine.StopAsync();
            await time.WaitForTimerAsync(DrainTimeout);
            time.Advance(DrainTimeout);
            await time.WaitForTimerAsync(GracePeriod);
            time.Advance(GracePeriod);
            await stop.Within("the engine to give up on the run");
        }

        // The step's continuation now runs synchronously on this thread and hands the run back to a run loop that is
        // gone. With the bug it threw ObjectDisposedException from the continuation, which the runtime rethrows on the
        // thread pool: the process ends (the test run aborts).
        release.SetResult();

        afterStep.Task.IsCompleted.Should().BeFalse("a run given up at shutdown runs no further steps");
    }

    [Fact]
    public async Task StopAsync_RunWaitingForRetry_IsAbandonedAfterDrainTimeout()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var attempts = 0;
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("retrying", task => task
                .ReadFrom(input)
                .WithRetry(retry =>
                {
                    retry.MaxAttempts = 5;
                    retry.Delay = TimeSpan.FromHours(1);
                    retry.MaxDelay = TimeSpan.FromHours(1);
                })
                .Process(i =>
                {
                    Interlocked.Increment(ref attempts);
                    return i > 0 ? throw new InvalidOperationException("down") : i;
                })),
            Configure,
            time);
        await harness.StartAsync();
        await time.WaitForTimerAsync(TimeSpan.FromHours(1)); // the run waits in the delay queue

        var stop = harness.Engine.StopAsync();
        await time.WaitForTimerAsync(DrainTimeout);
        time.Advance(DrainTimeout);
        await stop.Within("the engine to abandon the waiting run");

        attempts.Should().Be(1, "the run is abandoned, not retried, once the engine gives up");
        input.OutcomeAt(0).Should().Be(RunOutcome.Abandoned);
    }

    [Fact]
    public async Task StopAsync_CancelledToken_CancelsRunsWithoutWaitingForDrainTimeout()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        var inStep = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("hurry", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    inStep.Arrive();
                    await Task.Delay(Timeout.Infinite, ct);
                    return i;
                })),
            Configure,
            time);
        await harness.StartAsync();
        await inStep.WaitForAsync(2);

        await harness.Engine.StopAsync(new CancellationToken(canceled: true)).Within("a hurried stop");

        input.Outcomes.Values.Should().HaveCount(2).And.OnlyContain(o => o == RunOutcome.Abandoned);
    }

    [Fact]
    public async Task StopWhenDrained_InputCompleted_EngineStopsByItselfAfterProcessingEverything()
    {
        var input = new ScriptedInput<int>();
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("batch", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    return i * 10;
                })
                .WriteTo(output)),
            options => options.StopWhenDrained = true);
        await harness.StartAsync();

        input.Add(Enumerable.Range(0, 100));
        await input.WaitForAcknowledgementsAsync(100);
        harness.Engine.Completion.IsCompleted.Should().BeFalse("the input is not complete: more items may come");
        input.Add(Enumerable.Range(100, 100));
        input.Complete();
        await harness.Engine.Completion.Within("batch mode to stop the engine");

        output.Items.Order().Should().Equal(Enumerable.Range(0, 200).Select(i => i * 10));
        input.Outcomes.Should().HaveCount(200);
        input.StopCount.Should().Be(1);
        harness.Logs.GetSnapshot().Should().Contain(r => r.Message.StartsWith("Batch mode", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StopWhenDrained_InMemoryInputCompletedBeforeStart_StopsByItself()
    {
        var input = new InMemoryInput<int>();
        for (var i = 0; i < 50; i++)
        {
            await input.WriteAsync(i);
        }

        input.Complete();
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("batch-memory", task => task.ReadFrom(input).WriteTo(output)),
            options => options.StopWhenDrained = true);

        await harness.StartAsync();
        await harness.Engine.Completion.Within("batch mode to stop the engine");

        output.Count.Should().Be(50);
        input.Completed.Should().Be(50);
        await input.AllAcknowledged.Within("every item acknowledged");
    }

    [Fact]
    public async Task StartAsync_Twice_Throws()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("twice", task => task.ReadFrom(new ScriptedInput<int>())));
        await harness.StartAsync();

        var again = () => harness.Engine.StartAsync();

        await again.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task StopAsync_CalledRepeatedlyAndConcurrently_ReturnsTheSameStop()
    {
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("stop-twice", task => task.ReadFrom(input)));
        await harness.StartAsync();

        var first = harness.Engine.StopAsync();
        var second = harness.Engine.StopAsync();
        await Task.WhenAll(first, second).Within("both stops");

        second.Should().BeSameAs(first);
        input.StopCount.Should().Be(1);
    }

    [Fact]
    public async Task StopAsync_NeverStarted_CompletesAndCompletesCompletion()
    {
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("never-started", task => task.ReadFrom(input)));

        await harness.StopAsync();

        harness.Engine.Completion.IsCompletedSuccessfully.Should().BeTrue();
        input.StartCount.Should().Be(0);
    }

    [Fact]
    public async Task StartAsync_AfterStop_Throws()
    {
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("stopped", task => task.ReadFrom(input)));
        await harness.StopAsync();

        var start = () => harness.Engine.StartAsync();

        await start.Should().ThrowAsync<InvalidOperationException>("a stopped engine cannot run again");
        input.StartCount.Should().Be(0);
    }

    [Fact]
    public async Task StopAsync_AfterSourceFailedToStart_CompletesAndStopsTheOthers()
    {
        var failing = new FailingStartInput();
        var output = new ScriptedOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("bad-start", task => task.ReadFrom(failing).WriteTo(output)));

        var start = () => harness.Engine.StartAsync();
        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("cannot connect");

        await harness.StopAsync();
        harness.Engine.Completion.IsCompleted.Should().BeTrue();
    }

    [Fact]
    public async Task StopAsync_SourceStopThrows_IsLoggedAndStopCompletes()
    {
        var input = new FailingStopInput();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("bad-stop", task => task.ReadFrom(input)));
        await harness.StartAsync();

        await harness.StopAsync();

        harness.Engine.Completion.IsCompletedSuccessfully.Should().BeTrue();
        harness.Logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Error && r.Message == "Stopping 'failing-stop' failed");
    }

    [Fact]
    public async Task ReportFatalError_FromSource_StopsEngineAndFaultsCompletion()
    {
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("fatal", task => task.ReadFrom(input)));
        await harness.StartAsync();
        var error = new InvalidOperationException("the broker is gone for good");

        input.Context!.ReportFatalError(error);

        var completion = () => harness.Engine.Completion.Within("the engine to stop after the fatal error");
        (await completion.Should().ThrowAsync<InvalidOperationException>()).Which.Should().BeSameAs(error);
        input.StopCount.Should().Be(1);
        harness.Logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Critical && r.Exception == error);
    }

    private static void Configure(MeshineryOptions options)
    {
        options.DrainTimeout = DrainTimeout;
        options.CancellationGracePeriod = GracePeriod;
    }

    private sealed class FailingStartInput() : InputSource<int>("failing-start")
    {
        public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) =>
            ValueTask.FromException(new InvalidOperationException("cannot connect"));

        public override int Poll(Span<SourceItem<int>> buffer) => 0;
    }

    private sealed class FailingStopInput() : InputSource<int>("failing-stop")
    {
        public override ValueTask StopAsync(CancellationToken cancellationToken) =>
            ValueTask.FromException(new InvalidOperationException("cannot commit"));

        public override int Poll(Span<SourceItem<int>> buffer) => 0;
    }
}
