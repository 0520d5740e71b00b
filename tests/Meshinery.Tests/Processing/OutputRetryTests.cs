using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Processing;

/// <summary>Output writes that fail transiently are retried until they succeed; permanent failures go to the error path.</summary>
public class OutputRetryTests
{
    [Fact]
    public async Task WriteTo_OutputFailsTransiently_RetriedWithBackoffUntilWrittenThenAcknowledgedCompleted()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(7);
        var output = new ScriptedOutput<int>
        {
            Fault = (_, attempt) => attempt <= 3 ? new IOException("broker unavailable") : null,
            Transient = e => e is IOException,
        };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("transient-output", task => task.ReadFrom(input).WriteTo(output)),
            options =>
            {
                options.ErrorBackoff = TimeSpan.FromMilliseconds(100);
                options.MaxErrorBackoff = TimeSpan.FromMilliseconds(300);
                options.ErrorBackoffJitter = 0; // exact waits
            },
            time);

        await harness.StartAsync();
        foreach (var milliseconds in new[] { 100, 200, 300 }) // doubling, capped at MaxErrorBackoff
        {
            var delay = TimeSpan.FromMilliseconds(milliseconds);
            await time.WaitForTimerAsync(delay);
            input.Acknowledged.Should().Be(0, "the write is not durable yet");
            time.Advance(delay);
        }

        await input.WaitForAcknowledgementsAsync(1);

        output.Attempts.Should().Be(4);
        output.Items.Should().Equal(7);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        harness.Engine.GetStatistics("transient-output").Retried.Should().Be(3);
        var retryLogs = harness.Logs.GetSnapshot().Where(r => r.Exception is IOException).ToList();
        retryLogs.Count(r => r.Level == LogLevel.Warning).Should().Be(1, "an outage is reported once per task every few seconds, not per retry");
        retryLogs.Count(r => r.Level == LogLevel.Debug).Should().Be(2);
    }

    [Fact]
    public async Task WriteTo_OutputFailsTransiently_WaitIsTheBackoffShortenedByAtMostTheJitter()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(7);
        var output = new ScriptedOutput<int>
        {
            Fault = (_, attempt) => attempt == 1 ? new IOException("broker unavailable") : null,
            Transient = e => e is IOException,
        };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("jittered-output", task => task.ReadFrom(input).WriteTo(output)),
            options =>
            {
                options.ErrorBackoff = TimeSpan.FromSeconds(1);
                options.ErrorBackoffJitter = 0.5;
            },
            time);

        await harness.StartAsync();
        var wait = await time.WaitForTimerAsync(
            d => d >= TimeSpan.FromMilliseconds(500) && d <= TimeSpan.FromSeconds(1), "the retry's wait, between 0.5 and 1 s");
        time.Advance(wait);
        await input.WaitForAcknowledgementsAsync(1);

        wait.Should().BeLessThan(TimeSpan.FromSeconds(1), "a random share of up to half the backoff is taken off");
        output.Attempts.Should().Be(2);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task WriteTo_OutputFailsTransientlyBeyondTaskRetries_KeepsRetrying()
    {
        // Transient output failures do not use up the task's retries: an outage must not dead-letter good items.
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new ScriptedOutput<int>
        {
            Fault = (_, attempt) => attempt <= 5 ? new IOException("broker unavailable") : null,
            CompleteAsynchronously = true,
        };
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("outage", task => task
                .ReadFrom(input)
                .WithRetry(2, TimeSpan.Zero)
                .WriteTo(output)
                .DeadLetterTo(deadLetters)),
            options => options.ErrorBackoff = TimeSpan.FromMilliseconds(1));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Attempts.Should().Be(6);
        deadLetters.Count.Should().Be(0);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task WriteTo_OutputFailsPermanently_UsesTaskRetriesThenErrorPath()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new ScriptedOutput<int>
        {
            Fault = (_, _) => new InvalidOperationException("message too large"),
            Transient = _ => false,
        };
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("permanent-output", task => task
            .ReadFrom(input)
            .WithRetry(2, TimeSpan.Zero)
            .WriteTo(output)
            .DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Attempts.Should().Be(2);
        var letter = deadLetters.Items.Should().ContainSingle().Subject;
        letter.StepName.Should().Be("write-scripted-out");
        letter.Attempts.Should().Be(2);
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task WriteTo_TransientClassifierThrows_FailureTreatedAsPermanent()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new ScriptedOutput<int>
        {
            Fault = (_, _) => new IOException("down"),
            Transient = _ => throw new InvalidOperationException("classifier bug"),
        };
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("classifier", task => task
            .ReadFrom(input)
            .WriteTo(output)
            .DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        deadLetters.Count.Should().Be(1);
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
        harness.Engine.Completion.IsCompleted.Should().BeFalse("a broken classifier does not take the engine down");
    }
}
