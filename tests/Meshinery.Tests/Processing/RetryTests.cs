using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Processing;

/// <summary>
/// Failed steps are retried with exponential backoff on the engine's clock (a manual one here: the test waits until the
/// engine armed the retry timer with the expected delay, then moves the clock).
/// </summary>
public class RetryTests
{
    [Fact]
    public async Task WithRetry_StepFailsTwice_RetriedWithDoublingDelaysThenCompletes()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new InMemoryOutput<int>();
        var attemptsSeen = new ConcurrentQueue<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("retry", task => task
                .ReadFrom(input)
                .WithRetry(3, TimeSpan.FromSeconds(1))
                .Process(i =>
                {
                    var attempt = TaskRunContext.Current!.Attempt;
                    attemptsSeen.Enqueue(attempt);
                    return attempt < 3 ? throw new TimeoutException("slow backend") : i;
                })
                .WriteTo(output)),
            timeProvider: time);

        await harness.StartAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        output.Count.Should().Be(0);
        time.Advance(TimeSpan.FromSeconds(1));
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(2));
        await input.WaitForAcknowledgementsAsync(1);

        attemptsSeen.Should().Equal(1, 2, 3);
        output.Items.Should().Equal(1);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        harness.Engine.GetStatistics("retry").Retried.Should().Be(2);
        harness.Logs.GetSnapshot().Where(r => r.Level == LogLevel.Warning).Should().HaveCount(2)
            .And.OnlyContain(r => r.Exception is TimeoutException && r.Message.Contains("retrying in", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithRetry_Backoff_MultipliesEachDelayAndStopsAtMaxDelay()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var failures = new ConcurrentBag<ProcessingFailure>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("backoff", task => task
                .ReadFrom(input)
                .WithRetry(retry =>
                {
                    retry.MaxAttempts = 5;
                    retry.Delay = TimeSpan.FromSeconds(1);
                    retry.BackoffMultiplier = 3;
                    retry.MaxDelay = TimeSpan.FromSeconds(5);
                })
                .Process(i => i > 0 ? throw new TimeoutException("always") : i)
                .OnError(failure =>
                {
                    failures.Add(failure);
                    return ErrorDecision.Drop;
                })),
            timeProvider: time);

        await harness.StartAsync();
        foreach (var seconds in new[] { 1, 3, 5, 5 })
        {
            var delay = TimeSpan.FromSeconds(seconds);
            await time.WaitForTimerAsync(delay);
            time.Advance(delay);
        }

        await input.WaitForAcknowledgementsAsync(1);
        failures.Should().ContainSingle().Which.Attempts.Should().Be(5);
        input.OutcomeAt(0).Should().Be(RunOutcome.Dropped);
    }

    [Fact]
    public async Task WithRetry_RetryNotDueYet_StepIsNotRetriedEarly()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var tries = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("not-early", task => task
                .ReadFrom(input)
                .WithRetry(2, TimeSpan.FromSeconds(10))
                .Process(i =>
                {
                    tries.Arrive();
                    return tries.Count == 1 ? throw new TimeoutException("once") : i;
                })),
            timeProvider: time);

        await harness.StartAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(9));
        tries.Count.Should().Be(1);
        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(1);

        tries.Count.Should().Be(2);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithRetry_RunWaitingForRetry_HoldsNoWorkerAndDelaysNoOtherRun()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 20));
        var failedOnce = 0;
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("no-head-of-line", task => task
                .ReadFrom(input)
                .WithRetry(retry =>
                {
                    retry.MaxAttempts = 2;
                    retry.Delay = TimeSpan.FromHours(1);
                    retry.MaxDelay = TimeSpan.FromHours(1);
                })
                .Process(i => i == 0 && Interlocked.Exchange(ref failedOnce, 1) == 0 ? throw new TimeoutException("later") : i)),
            options => options.WorkerThreads = 1,
            time);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(19); // everything else finishes on the single worker meanwhile
        input.OutcomeAt(0).Should().BeNull("item 0 waits for its retry");
        await time.WaitForTimerAsync(TimeSpan.FromHours(1));
        time.Advance(TimeSpan.FromHours(1));
        await input.WaitForAcknowledgementsAsync(20);

        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithRetry_ShouldRetryRejectsTheException_GoesStraightToTheErrorPath()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        var tries = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentBag<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("should-retry", task => task
            .ReadFrom(input)
            .WithRetry(retry =>
            {
                retry.MaxAttempts = 3;
                retry.Delay = TimeSpan.Zero;
                retry.ShouldRetry = e => e is TimeoutException;
            })
            .Process(i =>
            {
                var attempt = tries.AddOrUpdate(i, 1, (_, n) => n + 1);
                return i == 1 ? throw new ArgumentException("permanent") : attempt < 3 ? throw new TimeoutException("transient") : i;
            })
            .OnError(failure =>
            {
                failures.Add(failure);
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        tries[1].Should().Be(1, "ArgumentException is not retried");
        tries[2].Should().Be(3);
        failures.Should().ContainSingle().Which.Exception.Should().BeOfType<ArgumentException>();
        input.OutcomeAt(1).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task WithRetry_ShouldRetryThrows_FailureGoesToTheErrorPath()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var tries = 0;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("broken-predicate", task => task
            .ReadFrom(input)
            .WithRetry(retry =>
            {
                retry.MaxAttempts = 3;
                retry.ShouldRetry = _ => throw new InvalidOperationException("predicate bug");
            })
            .Process(i =>
            {
                Interlocked.Increment(ref tries);
                return i > 0 ? throw new TimeoutException("fails") : i;
            })
            .OnError(_ => ErrorDecision.Drop)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        tries.Should().Be(1);
        input.OutcomeAt(0).Should().Be(RunOutcome.Dropped);
        harness.Engine.Completion.IsCompleted.Should().BeFalse("a broken predicate does not take the engine down");
    }

    [Fact]
    public async Task WithRetry_AsyncStepFails_RetriedLikeASyncOne()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var tries = 0;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("async-retry", task => task
            .ReadFrom(input)
            .WithRetry(2, TimeSpan.Zero)
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                return Interlocked.Increment(ref tries) == 1 ? throw new TimeoutException("once") : i;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        tries.Should().Be(2);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public void RetryOptions_Defaults_AreDocumentedValues()
    {
        var options = new RetryOptions();

        options.MaxAttempts.Should().Be(1);
        options.Delay.Should().Be(TimeSpan.FromMilliseconds(200));
        options.BackoffMultiplier.Should().Be(2);
        options.MaxDelay.Should().Be(TimeSpan.FromSeconds(30));
        options.ShouldRetry.Should().BeNull();
    }
}
