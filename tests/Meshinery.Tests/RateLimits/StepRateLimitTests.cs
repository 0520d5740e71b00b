using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.RateLimits;

/// <summary>
/// A task's step rate limit counts processor steps across its runs, on the engine's clock (a manual one here): no more
/// steps start than the bucket allows, a run that waits for a permit holds no worker and keeps its in-flight slot, and
/// every item is processed in the end.
/// </summary>
public class StepRateLimitTests
{
    [Fact]
    public async Task WithStepRateLimit_MoreStepsThanPermits_StartsOnlyWhatEachPeriodAllowsAndLosesNothing()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 4));
        var output = new InMemoryOutput<int>();
        var steps = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("step-limited", task => task
                .ReadFrom(input)
                .WithStepRateLimit(3, TimeSpan.FromSeconds(1))
                .Process(i =>
                {
                    steps.Arrive();
                    return i * 10;
                })
                .Do(_ => steps.Arrive())
                .WriteTo(output)),
            timeProvider: time);

        await harness.StartAsync();
        var limiter = harness.Engine.Runtime("step-limited").StepRate!;

        // 4 items of 2 processor steps each: 8 steps, 3 per second; the writes are not counted.
        await steps.WaitForAsync(3);
        WaitUntilEveryRunWaitsOrIsDone(input, limiter, 4);
        steps.Count.Should().Be(3, "the bucket starts with 3 permits and no time has passed");
        input.HandedOut.Should().Be(4, "the item rate is not limited");

        time.Advance(TimeSpan.FromSeconds(1));
        await steps.WaitForAsync(6);
        WaitUntilEveryRunWaitsOrIsDone(input, limiter, 4);
        steps.Count.Should().Be(6);

        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(4);
        steps.Count.Should().Be(8);
        limiter.Waiting.Should().Be(0);
        output.Items.Should().BeEquivalentTo([0, 10, 20, 30]);
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithStepRateLimit_RunsWaitingForAPermit_HoldNoWorkerAndBlockNoOtherTask()
    {
        var time = new ManualTimeProvider();
        var limited = new ScriptedInput<int>("limited");
        var free = new ScriptedInput<int>("free");
        limited.Add(Enumerable.Range(0, 5));
        free.Add(Enumerable.Range(0, 20));
        await using var harness = EngineHarness.Create(
            mesh => mesh
                .AddTask<int>("slow", task => task.ReadFrom(limited).WithStepRateLimit(1, TimeSpan.FromMinutes(1)).Process(i => i))
                .AddTask<int>("fast", task => task.ReadFrom(free).Process(i => i)),
            options: o => o.WorkerThreads = 1,
            timeProvider: time);

        await harness.StartAsync();
        var limiter = harness.Engine.Runtime("slow").StepRate!;

        // One shared worker: the 4 runs that wait for a permit must not hold it, or the other task would never run.
        await free.WaitForAcknowledgementsAsync(20);
        await limited.WaitForAcknowledgementsAsync(1);
        WaitUntilEveryRunWaitsOrIsDone(limited, limiter, 5);
        limited.Acknowledged.Should().Be(1);
        limiter.Waiting.Should().Be(4, "the other runs wait for a permit, in flight");
        harness.Engine.GetStatistics().Single(s => s.TaskName == "slow").InFlight.Should().Be(4);

        for (var period = 2; period <= 5; period++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            await limited.WaitForAcknowledgementsAsync(period);
        }

        limited.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithStepRateLimit_StopWhileRunsWait_AbandonsThemAndLosesNothing()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 3));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("waiting", task => task
                .ReadFrom(input)
                .WithStepRateLimit(1, TimeSpan.FromHours(1))
                .Process(i => i)),
            options: o => o.DrainTimeout = TimeSpan.FromSeconds(10),
            timeProvider: time);

        await harness.StartAsync();
        var limiter = harness.Engine.Runtime("waiting").StepRate!;
        await input.WaitForAcknowledgementsAsync(1);
        WaitUntilEveryRunWaitsOrIsDone(input, limiter, 3);

        // The refill is an hour away: the drain timeout passes first, and the engine gives up on the waiting runs.
        var stop = harness.Engine.StopAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));
        await stop.Within("the engine to stop");

        input.Acknowledged.Should().Be(3, "a run waiting for a permit ends when the engine gives up on it");
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        input.OutcomeAt(1).Should().Be(RunOutcome.Abandoned);
        input.OutcomeAt(2).Should().Be(RunOutcome.Abandoned);
        limiter.Waiting.Should().Be(0);
    }

    [Theory]
    [InlineData(0, 1_000, "the permits per period must be greater than 0 (was 0)")]
    [InlineData(-1, 1_000, "the permits per period must be greater than 0 (was -1)")]
    [InlineData(5, 0, "the period must be greater than 0 (was 00:00:00)")]
    [InlineData(5, -1_000, "the period must be greater than 0 (was -00:00:01)")]
    public void WithStepRateLimit_InvalidRate_FailsAtStartNamingTheTaskAndTheSetting(int permits, int milliseconds, string message)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("bad-step-rate", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithStepRateLimit(permits, TimeSpan.FromMilliseconds(milliseconds))
            .Process(i => i)));
        var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("bad-step-rate");
        error.Setting.Should().Be("StepRateLimit");
        error.Message.Should().Contain(message);
    }

    /// <summary>
    /// Waits (with a deadline) until each of the <paramref name="runs"/> runs is either acknowledged or waiting for a
    /// permit: with the clock standing still, nothing can move after that, so the counts a test reads then are final.
    /// </summary>
    private static void WaitUntilEveryRunWaitsOrIsDone(ScriptedInput<int> input, StepRateLimiter limiter, int runs) =>
        SpinWait.SpinUntil(() => input.Acknowledged + limiter.Waiting == runs, Deadline.Default)
            .Should().BeTrue($"every run ends or waits for a step permit (acknowledged {input.Acknowledged}, waiting {limiter.Waiting})");
}
