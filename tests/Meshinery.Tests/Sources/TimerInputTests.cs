namespace Meshinery.Tests.Sources;

/// <summary><see cref="TimerInput"/> on a fake clock: intervals, cron in a time zone, missed ticks, bad settings.</summary>
public class TimerInputTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Every_IntervalPasses_TicksOncePerInterval()
    {
        var time = new ManualTimeProvider();
        time.SetUtcNow(Start);
        var output = new InMemoryOutput<TimerTick>();
        await using var harness = Create(TimerInput.Every(TimeSpan.FromMinutes(1)), output, time);
        await harness.StartAsync();

        await time.WaitForTimerAsync(TimeSpan.FromMinutes(1));
        output.Count.Should().Be(0, "the first tick comes one interval after the start");
        time.Advance(TimeSpan.FromMinutes(1));
        await output.WaitForCountAsync(1).Within("the first tick");
        await time.WaitForTimerAsync(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1));
        await output.WaitForCountAsync(2).Within("the second tick");

        output.Items.Should().Equal(
            new TimerTick(Start.AddMinutes(1), 1, 0),
            new TimerTick(Start.AddMinutes(2), 2, 0));
    }

    [Fact]
    public async Task Every_TaskBusyForSeveralIntervals_OneTickForTheLatestWithMissedCount()
    {
        var time = new ManualTimeProvider();
        time.SetUtcNow(Start);
        var output = new InMemoryOutput<TimerTick>();
        using var release = new SemaphoreSlim(0);
        var entered = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<TimerTick>("timer-busy", task => task
                .ReadFrom(TimerInput.Every(TimeSpan.FromMinutes(1)))
                .WithMaxInFlight(1) // no overlapping runs: a tick that comes meanwhile waits, coalesced
                .Process(async (tick, ct) =>
                {
                    entered.Arrive();
                    if (tick.Sequence == 1)
                    {
                        await release.WaitAsync(ct);
                    }

                    return tick;
                })
                .WriteTo(output)),
            timeProvider: time);
        await harness.StartAsync();

        await time.WaitForTimerAsync(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1));
        await entered.WaitForAsync(1);
        await time.WaitForTimerAsync(TimeSpan.FromMinutes(1)); // armed for 12:02 while the first run holds the task
        time.Advance(TimeSpan.FromMinutes(3) + TimeSpan.FromSeconds(30)); // 12:04:30: 12:02, 12:03 and 12:04 are due
        release.Release();
        await output.WaitForCountAsync(2).Within("the catch-up tick");

        output.Items[1].Should().Be(new TimerTick(Start.AddMinutes(4), 2, Missed: 2));
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(30)); // the schedule keeps its phase: next at 12:05
    }

    [Fact]
    public async Task Cron_TimeZoneWithDaylightSavingChange_TicksAtLocalTimeAcrossTheChange()
    {
        // 2026-03-29 is the spring-forward day in Europe/Berlin: 09:00 is 08:00 UTC the day before, 07:00 UTC after.
        var time = new ManualTimeProvider();
        time.SetUtcNow(Start); // Saturday 12:00 UTC = 13:00 CET
        var output = new InMemoryOutput<TimerTick>();
        await using var harness = Create(TimerInput.Cron("0 9 * * *", "Europe/Berlin"), output, time);
        await harness.StartAsync();

        await time.WaitForTimerAsync(TimeSpan.FromHours(19)); // to Sunday 09:00 CEST = 07:00 UTC
        time.Advance(TimeSpan.FromHours(19));
        await output.WaitForCountAsync(1).Within("Sunday's tick");
        await time.WaitForTimerAsync(TimeSpan.FromHours(24)); // Monday 09:00 CEST

        output.Items[0].ScheduledAt.Should().Be(new DateTimeOffset(2026, 3, 29, 9, 0, 0, TimeSpan.FromHours(2)));
        output.Items[0].ScheduledAt.Offset.Should().Be(TimeSpan.FromHours(2), "the tick carries the zone's offset");
    }

    [Fact]
    public async Task Cron_SixFields_TicksOnSeconds()
    {
        var time = new ManualTimeProvider();
        time.SetUtcNow(Start);
        var output = new InMemoryOutput<TimerTick>();
        await using var harness = Create(TimerInput.Cron("*/10 * * * * *"), output, time);
        await harness.StartAsync();

        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));
        await output.WaitForCountAsync(1).Within("the tick");

        output.Items[0].Should().Be(new TimerTick(Start.AddSeconds(10), 1, 0));
    }

    [Theory]
    [InlineData("cron", "0 25 * * *", null, "Cron", "'0 25 * * *' is not a cron expression")]
    [InlineData("cron", "0 9 * * *", "Mars/Olympus_Mons", "TimeZone", "'Mars/Olympus_Mons' is not a time zone this machine knows")]
    [InlineData("every", "0", null, "Interval", "needs an interval greater than zero (was 00:00:00)")]
    public async Task Start_BadSetting_FailsNamingTaskAndSetting(string kind, string value, string? zone, string setting, string message)
    {
        var input = kind == "cron" ? TimerInput.Cron(value, zone) : TimerInput.Every(TimeSpan.Zero);
        await using var harness = Create(input, new InMemoryOutput<TimerTick>(), new ManualTimeProvider());

        var start = () => harness.Engine.StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.TaskName.Should().Be("timer-task");
        error.Setting.Should().Be(setting);
        error.Message.Should().Contain(message);
    }

    private static EngineHarness Create(TimerInput input, InMemoryOutput<TimerTick> output, TimeProvider time) =>
        EngineHarness.Create(mesh => mesh.AddTask<TimerTick>("timer-task", task => task.ReadFrom(input).WriteTo(output)), timeProvider: time);
}
