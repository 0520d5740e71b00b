namespace Meshinery.Tests.Scheduling;

/// <summary>Injecting runs one item through a task directly, with the task's steps, outputs and error path.</summary>
public class InjectTests
{
    [Fact]
    public async Task InjectAsync_Item_RunsTheTaskAndReturnsTheOutput()
    {
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => i * 2)
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                return $"#{i}";
            })
            .WriteTo(output)));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("inject", 21).Within("the injected run");

        result.Outcome.Should().Be(RunOutcome.Completed);
        result.Output.Should().Be("#42");
        result.Failure.Should().BeNull();
        output.Items.Should().Equal("#42");
        harness.Engine.GetStatistics("inject").Completed.Should().Be(1);
    }

    [Fact]
    public async Task InjectAsync_FilteredItem_ReturnsDroppedWithTheLastValue()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-drop", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => i + 1)
            .Where(i => i > 100)));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("inject-drop", 1).Within("the injected run");

        result.Outcome.Should().Be(RunOutcome.Dropped);
        result.Output.Should().Be(2);
    }

    [Fact]
    public async Task InjectAsync_FailingItem_ReturnsFailedWithTheFailureAtTheInjectedPosition()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-fail", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => i > 0 ? throw new InvalidOperationException("no") : i, "check")));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("inject-fail", 1).Within("the injected run");

        result.Outcome.Should().Be(RunOutcome.Failed);
        result.Failure!.StepName.Should().Be("check");
        result.Failure.Position.Should().Be(SourcePosition.Injected);
    }

    [Fact]
    public async Task InjectAsync_InsideTheStep_ContextHasTheInjectedPositionAndCallerAsyncLocals()
    {
        var callerValue = new AsyncLocal<string>();
        SourcePosition? position = null;
        string? flowed = null;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-context", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i =>
            {
                position = TaskRunContext.Current?.Position;
                flowed = callerValue.Value;
                return i;
            })));
        await harness.StartAsync();
        callerValue.Value = "from the caller";

        await harness.Engine.InjectAsync("inject-context", 1).Within("the injected run");

        position.Should().Be(SourcePosition.Injected);
        flowed.Should().Be("from the caller", "the run's context is built from the caller's");
        TaskRunContext.Current.Should().BeNull("the run's context does not leak back into the caller");
    }

    [Fact]
    public async Task InjectAsync_ExecutionContextFlowSuppressed_StillRuns()
    {
        string? taskName = null;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-suppressed", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i =>
            {
                taskName = TaskData.Current?.TaskName;
                return i;
            })));
        await harness.StartAsync();

        ValueTask<RunResult> pending;
        using (ExecutionContext.SuppressFlow())
        {
            pending = harness.Engine.InjectAsync("inject-suppressed", 1);
        }

        var result = await pending.Within("the injected run");
        result.Outcome.Should().Be(RunOutcome.Completed);
        taskName.Should().Be("inject-suppressed");
    }

    [Fact]
    public async Task InjectAsync_TaskFull_DoesNotWaitForASlot()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var inStep = new Arrivals();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-full", task => task
            .ReadFrom(input)
            .WithMaxInFlight(1)
            .Process(i =>
            {
                if (i == 1)
                {
                    inStep.Arrive();
                    gate.WaitOrFail("the test to release the polled run");
                }

                return i;
            })));
        await harness.StartAsync();
        await inStep.WaitForAsync(1); // the task is full

        var result = await harness.Engine.InjectAsync("inject-full", 2).Within("the injected run, while the task is full");

        result.Outcome.Should().Be(RunOutcome.Completed);
        gate.Set();
        await input.WaitForAcknowledgementsAsync(1);
    }

    [Fact]
    public async Task InjectAsync_DerivedType_IsAccepted()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<object>("inject-derived", task => task
            .ReadFrom(new ScriptedInput<object>())
            .Process(o => o.ToString())));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("inject-derived", "text").Within("the injected run");

        result.Output.Should().Be("text");
    }

    [Fact]
    public async Task InjectAsync_UnknownTask_Throws()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("known", task => task.ReadFrom(new ScriptedInput<int>())));
        await harness.StartAsync();

        var inject = () => harness.Engine.InjectAsync("unknown", 1).AsTask();

        (await inject.Should().ThrowAsync<ArgumentException>()).WithMessage("There is no task named 'unknown'.*");
    }

    [Fact]
    public async Task InjectAsync_WrongItemType_Throws()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("typed", task => task.ReadFrom(new ScriptedInput<int>())));
        await harness.StartAsync();

        var inject = () => harness.Engine.InjectAsync("typed", "text").AsTask();

        (await inject.Should().ThrowAsync<ArgumentException>()).WithMessage("Task 'typed' reads Int32 items; String cannot be injected.*");
    }

    [Fact]
    public async Task InjectAsync_BeforeStartOrAfterStop_Throws()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("lifecycle", task => task.ReadFrom(new ScriptedInput<int>())));
        var beforeStart = () => harness.Engine.InjectAsync("lifecycle", 1).AsTask();
        await beforeStart.Should().ThrowAsync<InvalidOperationException>();

        await harness.StartAsync();
        await harness.StopAsync();
        var afterStop = () => harness.Engine.InjectAsync("lifecycle", 1).AsTask();

        await afterStop.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task InjectAsync_CallerStopsWaiting_RunStillCompletes()
    {
        var output = new InMemoryOutput<int>();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inject-cancel", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i =>
            {
                gate.WaitOrFail("the test to release the run");
                return i;
            })
            .WriteTo(output)));
        await harness.StartAsync();
        using var cts = new CancellationTokenSource();

        var pending = harness.Engine.InjectAsync("inject-cancel", 5, cts.Token).AsTask();
        await cts.CancelAsync();
        var wait = () => pending;
        await wait.Should().ThrowAsync<OperationCanceledException>();
        gate.Set();

        await output.WaitForCountAsync(1, Deadline.Token()).Within("the run to complete anyway");
        output.Items.Should().Equal(5);
    }
}
