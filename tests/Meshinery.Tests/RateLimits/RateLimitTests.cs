using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.RateLimits;

/// <summary>
/// A task's rate limit is back-pressure on its polling, on the engine's clock (a manual one here): no more items are
/// read than the bucket allows, the rest wait in the source, and every item is processed in the end.
/// </summary>
public class RateLimitTests
{
    [Fact]
    public async Task WithRateLimit_MoreItemsThanPermits_ReadsOnlyWhatEachPeriodAllowsAndLosesNothing()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 12));
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("limited", task => task
                .ReadFrom(input)
                .WithRateLimit(5, TimeSpan.FromSeconds(1))
                .Process(i => i)
                .WriteTo(output)),
            timeProvider: time);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(5);
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(1)); // the bucket's refill timer

        input.HandedOut.Should().Be(5, "the bucket starts with 5 tokens and no time has passed");
        input.Backlog.Should().Be(7);

        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(10);
        input.HandedOut.Should().Be(10);

        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(12);
        output.Items.Should().BeEquivalentTo(Enumerable.Range(0, 12));
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithRateLimit_OtherTask_IsNotLimited()
    {
        var time = new ManualTimeProvider();
        var limited = new ScriptedInput<int>("limited");
        var free = new ScriptedInput<int>("free");
        limited.Add(Enumerable.Range(0, 10));
        free.Add(Enumerable.Range(0, 50));
        await using var harness = EngineHarness.Create(
            mesh => mesh
                .AddTask<int>("slow", task => task.ReadFrom(limited).WithRateLimit(2, TimeSpan.FromMinutes(1)).Process(i => i))
                .AddTask<int>("fast", task => task.ReadFrom(free).Process(i => i)),
            timeProvider: time);

        await harness.StartAsync();
        await free.WaitForAcknowledgementsAsync(50);
        await limited.WaitForAcknowledgementsAsync(2);

        limited.HandedOut.Should().Be(2);
    }

    [Theory]
    [InlineData(0, 1_000, "the permits per period must be greater than 0 (was 0)")]
    [InlineData(-3, 1_000, "the permits per period must be greater than 0 (was -3)")]
    [InlineData(10, 0, "the period must be greater than 0 (was 00:00:00)")]
    public void WithRateLimit_InvalidRate_FailsAtStartNamingTheTaskAndTheSetting(int permits, int milliseconds, string message)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("bad-rate", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithRateLimit(permits, TimeSpan.FromMilliseconds(milliseconds))));
        var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("bad-rate");
        error.Setting.Should().Be("RateLimit");
        error.Message.Should().Contain(message);
    }
}
