using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Scheduling;

/// <summary>A failing input poll is logged and retried with backoff; it never stops the engine.</summary>
public class PollFailureTests
{
    [Fact]
    public async Task Poll_SourceThrows_LoggedAndRetriedWithDoublingBackoffUntilItRecovers()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>
        {
            PollFault = poll => poll <= 3 ? new IOException("broker unreachable") : null,
        };
        input.Add(Enumerable.Range(0, 10));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("flaky-input", task => task.ReadFrom(input)),
            options =>
            {
                options.IdlePollInterval = TimeSpan.FromHours(1); // only the backoff brings the next poll
                options.ErrorBackoff = TimeSpan.FromMilliseconds(100);
            },
            time);

        await harness.StartAsync();
        foreach (var milliseconds in new[] { 100, 200, 400 })
        {
            var delay = TimeSpan.FromMilliseconds(milliseconds);
            await time.WaitForTimerAsync(delay);
            input.HandedOut.Should().Be(0);
            time.Advance(delay);
        }

        await input.WaitForAcknowledgementsAsync(10);

        input.PollCalls.Should().BeGreaterThanOrEqualTo(4);
        harness.Engine.Completion.IsCompleted.Should().BeFalse("a failing poll is not fatal");
        var warnings = harness.Logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning).ToList();
        warnings.Should().HaveCount(3).And.OnlyContain(r => r.Exception is IOException);
        warnings.Select(r => r.GetStructuredStateValue("Failures")).Should().Equal("1", "2", "3");
        warnings[0].Message.Should().Be("Polling input 'scripted' of task 'flaky-input' failed (1 in a row); retrying in 00:00:00.1000000");
    }

    [Fact]
    public async Task Poll_OneSourceFails_OtherSourcesOfTheTaskKeepBeingPolled()
    {
        var broken = new ScriptedInput<int>("broken") { PollFault = _ => new IOException("down for good") };
        var healthy = new ScriptedInput<int>("healthy");
        healthy.Add(Enumerable.Range(0, 50));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("two-inputs", task => task.ReadFrom(broken).ReadFrom(healthy)),
            options => options.ErrorBackoff = TimeSpan.FromMilliseconds(1));

        await harness.StartAsync();
        await healthy.WaitForAcknowledgementsAsync(50);

        broken.PollCalls.Should().BeGreaterThan(0);
        harness.Engine.Completion.IsCompleted.Should().BeFalse();
    }

    [Fact]
    public async Task Poll_SourceReturnsMoreThanItWasAskedFor_TreatedAsAFailedPoll()
    {
        var input = new OverfillingInput();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("overfill", task => task.ReadFrom(input)),
            options => options.ErrorBackoff = TimeSpan.FromMilliseconds(1));

        await harness.StartAsync();
        await input.Polled.WaitForAsync(2);

        harness.Engine.Completion.IsCompleted.Should().BeFalse();
        harness.Engine.GetStatistics("overfill").Started.Should().Be(0);
        harness.Logs.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Warning && r.Exception is InvalidOperationException);
    }

    private sealed class OverfillingInput() : InputSource<int>("overfill")
    {
        public Arrivals Polled { get; } = new();

        public override int Poll(Span<SourceItem<int>> buffer)
        {
            Polled.Arrive();
            return buffer.Length + 1;
        }
    }
}
