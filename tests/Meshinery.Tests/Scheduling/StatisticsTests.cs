namespace Meshinery.Tests.Scheduling;

/// <summary>Per-task counters, as <see cref="MeshineryEngine.GetStatistics(string)"/> reports them.</summary>
public class StatisticsTests
{
    [Fact]
    public async Task GetStatistics_MixedOutcomes_CountsEachKind()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var failedOnce = 0;
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("stats", task => task
                .ReadFrom(input)
                .WithRetry(2, TimeSpan.FromSeconds(1))
                .Where(i => i != 0) // 1 dropped
                .Process(i => i == 1 && Interlocked.Exchange(ref failedOnce, 1) == 0 ? throw new TimeoutException("once") : i) // 1 retry
                .Process(i => i == 2 ? throw new InvalidOperationException("always") : i)), // 1 failed (after 1 retry)
            timeProvider: time);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(7); // 0 dropped, 3..9 completed, while 1 and 2 wait for their retries
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(10);
        await harness.StopAsync();

        var statistics = harness.Engine.GetStatistics("stats");
        statistics.Should().Be(new TaskStatistics("stats", Started: 10, Completed: 8, Failed: 1, DeadLettered: 0, Dropped: 1, Abandoned: 0, Retried: 2, InFlight: 0));
        statistics.Finished.Should().Be(10);
    }

    [Fact]
    public async Task GetStatistics_RunsBlocked_ReportsThemInFlight()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 5));
        var inStep = new Arrivals();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("in-flight", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                inStep.Arrive();
                gate.WaitOrFail("the test to release the runs");
                return i;
            })));

        await harness.StartAsync();
        await inStep.WaitForAsync(5);

        harness.Engine.GetStatistics("in-flight").Should().Be(new TaskStatistics("in-flight", 5, 0, 0, 0, 0, 0, 0, 5));
        harness.Engine.InFlight.Should().Be(5);
        gate.Set();
        await input.WaitForAcknowledgementsAsync(5);
        await harness.StopAsync();
        harness.Engine.GetStatistics("in-flight").InFlight.Should().Be(0);
        harness.Engine.InFlight.Should().Be(0);
    }

    [Fact]
    public async Task GetStatistics_UnknownTask_Throws()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("known", task => task.ReadFrom(new ScriptedInput<int>())));

        var read = () => harness.Engine.GetStatistics("unknown");

        read.Should().Throw<ArgumentException>().WithMessage("There is no task named 'unknown'.*");
    }

    [Fact]
    public async Task TaskNames_ListsEveryTask()
    {
        await using var harness = EngineHarness.Create(mesh => mesh
            .AddTask<int>("first", task => task.ReadFrom(new ScriptedInput<int>()))
            .AddTask<string>("second", task => task.ReadFrom(new ScriptedInput<string>())));

        harness.Engine.TaskNames.Should().BeEquivalentTo(["first", "second"]);
    }

    [Fact]
    public async Task GetStatistics_AllTasks_ReturnsEachInTheOrderAdded()
    {
        var first = new ScriptedInput<int>("first");
        var second = new ScriptedInput<int>("second");
        first.Add(1, 2);
        second.Add(3);
        await using var harness = EngineHarness.Create(mesh => mesh
            .AddTask<int>("zeta", task => task.ReadFrom(first))
            .AddTask<int>("alpha", task => task.ReadFrom(second)));

        await harness.StartAsync();
        await first.WaitForAcknowledgementsAsync(2);
        await second.WaitForAcknowledgementsAsync(1);
        await harness.StopAsync();

        harness.Engine.GetStatistics().Should().Equal(
            new TaskStatistics("zeta", 2, 2, 0, 0, 0, 0, 0, 0),
            new TaskStatistics("alpha", 1, 1, 0, 0, 0, 0, 0, 0));
    }
}
