namespace Meshinery.Tests.Scheduling;

/// <summary>An idle engine still reads sources that cannot signal, every <see cref="MeshineryOptions.IdlePollInterval"/>.</summary>
public class IdlePollTests
{
    [Fact]
    public async Task IdlePoll_SystemClock_ReadsItemsOfASourceThatNeverSignals()
    {
        var input = new ScriptedInput<int> { Signals = false };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("silent-source", task => task.ReadFrom(input)),
            options => options.IdlePollInterval = TimeSpan.FromMilliseconds(20));
        await harness.StartAsync();
        await input.FirstPoll.Within("the first poll");

        input.Add(Enumerable.Range(0, 5)); // nothing tells the engine: only its own idle poll finds them

        await input.WaitForAcknowledgementsAsync(5);
        input.PollCalls.Should().BeGreaterThan(1);
    }

    [Fact]
    public async Task IdlePoll_FakeClock_PollsAgainOnlyWhenTheIntervalHasPassed()
    {
        var time = new ManualTimeProvider();
        var interval = TimeSpan.FromMinutes(1);
        var input = new ScriptedInput<int> { Signals = false };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("silent-source", task => task.ReadFrom(input)),
            options => options.IdlePollInterval = interval,
            time);
        await harness.StartAsync();
        await time.WaitForTimerAsync(interval); // the poll loop went idle and armed the clock's timer
        input.Add(Enumerable.Range(0, 5));
        time.Advance(interval - TimeSpan.FromSeconds(1));
        input.HandedOut.Should().Be(0, "the interval has not passed on the engine's clock");

        time.Advance(TimeSpan.FromSeconds(1));

        await input.WaitForAcknowledgementsAsync(5);
    }
}
