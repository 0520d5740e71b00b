namespace Meshinery.Testing.Tests;

/// <summary><see cref="ManualTimeProvider"/>: waiting for a timer to be armed before advancing the clock.</summary>
public class ManualTimeProviderTests
{
    [Fact]
    public async Task WaitForTimer_ArmedBeforeTheCall_CompletesAndEachArmSatisfiesOneCall()
    {
        var time = new ManualTimeProvider();
        using var timer = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);

        (await time.WaitForTimerAsync(TimeSpan.FromSeconds(5))).Should().Be(TimeSpan.FromSeconds(5));
        var second = time.WaitForTimerAsync(TimeSpan.FromSeconds(5));
        second.IsCompleted.Should().BeFalse("the one arm was claimed by the first call");

        timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        (await second).Should().Be(TimeSpan.FromSeconds(5));
        time.ArmedTimers.Should().Equal(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitForTimer_ThenAdvance_FiresTheTimer()
    {
        var time = new ManualTimeProvider();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arming = Task.Run(() => time.CreateTimer(_ => fired.TrySetResult(), null, TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan));

        await time.WaitForTimerAsync(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1));

        await fired.Task.WaitAsync(ManualTimeProvider.DefaultDeadline);
        (await arming).Dispose();
    }

    [Fact]
    public async Task WaitForTimer_NeverArmed_TimesOutListingTheTimersThatWere()
    {
        var time = new ManualTimeProvider();
        using var other = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);

        var wait = () => time.WaitForTimerAsync(TimeSpan.FromSeconds(7), deadline: TimeSpan.FromMilliseconds(50));

        (await wait.Should().ThrowAsync<TimeoutException>()).Which.Message.Should()
            .Contain("a timer armed with 00:00:07").And.Contain("armed so far: 00:00:03");
    }
}
