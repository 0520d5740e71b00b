using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Processing;

/// <summary>Failed steps reach the task's error handler, which continues, drops or dead-letters; other runs go on.</summary>
public class ErrorHandlingTests
{
    [Fact]
    public async Task OnError_ProcessorThrows_HandlerReceivesTheFailure()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>("orders", partition: 4);
        input.Add(10, 11, 12);
        var failures = new ConcurrentBag<ProcessingFailure>();
        var error = new InvalidOperationException("pricing is down");
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("handled", task => task
                .ReadFrom(input)
                .Process(i => i * 2, "double")
                .Process(i => i == 22 ? throw error : i, "price")
                .OnError(failure =>
                {
                    failures.Add(failure);
                    return ErrorDecision.Drop;
                })),
            timeProvider: time);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        var failure = failures.Should().ContainSingle().Subject;
        failure.TaskName.Should().Be("handled");
        failure.StepName.Should().Be("price");
        failure.Item.Should().Be(22, "the failed step's input");
        failure.Exception.Should().BeSameAs(error);
        failure.Attempts.Should().Be(1);
        failure.Position.Should().Be(new SourcePosition("orders", 4, 1));
        failure.SourceRecord.Should().Be("raw-11");
        failure.FailedAt.Should().Be(time.GetUtcNow());
        failure.ToString().Should().Be("Task 'handled' step 'price' failed for orders[4]@1 after 1 attempt(s): InvalidOperationException: pricing is down");
    }

    [Fact]
    public async Task OnError_ContinueWithReplacement_ChainContinuesWithIt()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("replace", task => task
            .ReadFrom(input)
            .Process(i => i == 2 ? throw new FormatException("bad") : i * 100)
            .Process(i => $"value {i}")
            .WriteTo(output)
            .OnError(_ => ErrorDecision.Continue(-1))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        output.Items.Should().BeEquivalentTo(["value 100", "value -1", "value 300"]);
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task OnError_Drop_AcknowledgesTheItemAsDroppedAndWritesNothing()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("drop", task => task
            .ReadFrom(input)
            .Process(i => i == 2 ? throw new FormatException("bad") : i)
            .WriteTo(output)
            .OnError(_ => ErrorDecision.Drop)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        await harness.StopAsync();
        output.Items.Should().BeEquivalentTo([1, 3]);
        input.OutcomeAt(1).Should().Be(RunOutcome.Dropped);
        harness.Engine.GetStatistics("drop").Dropped.Should().Be(1);
    }

    [Fact]
    public async Task OnError_DeadLetter_WritesTheFailureToTheDeadLetterOutput()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("dead-letter", task => task
            .ReadFrom(input)
            .Process(i => i == 2 ? throw new FormatException("bad") : i, "parse")
            .DeadLetterTo(deadLetters)
            .OnError(_ => ErrorDecision.DeadLetter)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        var letter = deadLetters.Items.Should().ContainSingle().Subject;
        letter.StepName.Should().Be("parse");
        letter.Item.Should().Be(2);
        letter.Exception.Should().BeOfType<FormatException>();
        input.OutcomeAt(1).Should().Be(RunOutcome.Failed);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        await harness.StopAsync();
        harness.Engine.GetStatistics("dead-letter").Failed.Should().Be(1);
    }

    [Fact]
    public async Task DeadLetterTo_NoHandler_EveryFailureIsDeadLettered()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("no-handler", task => task
            .ReadFrom(input)
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                return i % 2 == 0 ? throw new FormatException($"bad {i}") : i;
            })
            .DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(10);

        deadLetters.Items.Select(f => (int)f.Item!).Order().Should().Equal(0, 2, 4, 6, 8);
        harness.LogsAtOrAbove(LogLevel.Error).Should().BeEmpty("dead-lettered items are not errors to log");
        var statistics = harness.Engine.GetStatistics("no-handler");
        statistics.Failed.Should().Be(5, "the acknowledgement comes after the counters");
        statistics.DeadLettered.Should().Be(5);
    }

    [Fact]
    public async Task Engine_NoHandlerAndNoDeadLetterOutput_LogsTheFailureAndAcknowledgesFailed()
    {
        var input = new ScriptedInput<int>();
        input.Add(7);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("log-only", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i, "parse")));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
        harness.Engine.GetStatistics("log-only").DeadLettered.Should().Be(0, "a failure that is only logged is not dead-lettered");
        var record = harness.LogsAtOrAbove(LogLevel.Error).Should().ContainSingle().Subject;
        record.Exception.Should().BeOfType<FormatException>();
        record.Message.Should().Contain("Task 'log-only' step 'parse' failed for scripted[0]@0");
    }

    [Fact]
    public async Task OnError_ReplacementOfWrongType_IsDeadLetteredAndLogged()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("wrong-type", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i)
            .WriteTo(output)
            .DeadLetterTo(deadLetters)
            .OnError(_ => ErrorDecision.Continue("not an int"))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Count.Should().Be(0);
        deadLetters.Count.Should().Be(1);
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
        harness.LogsAtOrAbove(LogLevel.Error).Should().ContainSingle(r => r.Message.Contains("returned a replacement of type String", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OnError_NullReplacementForValueType_IsDeadLettered()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("null-replacement", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i)
            .DeadLetterTo(deadLetters)
            .OnError(_ => ErrorDecision.Continue(null))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        deadLetters.Count.Should().Be(1);
    }

    [Fact]
    public async Task OnError_NullReplacementForReferenceType_Continues()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new InMemoryOutput<string?>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("null-ok", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : (string?)"never")
            .WriteTo(output)
            .OnError(_ => ErrorDecision.Continue(null))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal([null]);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task OnError_HandlerThrows_ItemIsDeadLetteredAndLogged()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("handler-throws", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i)
            .DeadLetterTo(deadLetters)
            .OnError(_ => throw new InvalidOperationException("handler bug"))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        deadLetters.Items.Should().ContainSingle().Which.Exception.Should().BeOfType<FormatException>("the dead letter carries the step's failure");
        harness.LogsAtOrAbove(LogLevel.Error).Should().ContainSingle(r => r.Exception is InvalidOperationException && r.Message.Contains("error handler", StringComparison.Ordinal));
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task OnError_Handler_RunsOnAWorkerInTheRunsContext()
    {
        var input = new ScriptedInput<int>("ctx", partition: 1);
        input.Add(5);
        string? thread = null;
        SourcePosition? position = null;
        string? taskName = null;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("handler-context", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i)
            .OnError(_ =>
            {
                thread = Thread.CurrentThread.Name;
                position = TaskRunContext.Current?.Position;
                taskName = TaskData.Current?.TaskName;
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        thread.Should().StartWith("meshinery-worker-");
        position.Should().Be(new SourcePosition("ctx", 1, 0));
        taskName.Should().Be("handler-context");
    }

    [Fact]
    public async Task Engine_OneRunFails_OtherRunsAreUnaffected()
    {
        const int count = 200;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var output = new InMemoryOutput<int>();
        var handled = new ConcurrentBag<object?>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("isolated", task => task
            .ReadFrom(input)
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                return i == 13 ? throw new InvalidOperationException("unlucky") : i;
            })
            .WriteTo(output)
            .OnError(failure =>
            {
                handled.Add(failure.Item);
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        handled.Should().Equal(13);
        output.Items.Order().Should().Equal(Enumerable.Range(0, count).Where(i => i != 13));
        input.OutcomeAt(13).Should().Be(RunOutcome.Dropped);
        input.Outcomes.Values.Count(o => o == RunOutcome.Completed).Should().Be(count - 1);
    }

    [Fact]
    public async Task DeadLetterTo_OutputFailsTransiently_RetriedUntilWritten()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(1);
        var deadLetters = new ScriptedOutput<ProcessingFailure>("dead-letters")
        {
            Fault = (_, attempt) => attempt <= 2 ? new IOException("dead-letter topic unavailable") : null,
            Transient = e => e is IOException,
        };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("dead-letter-retry", task => task
                .ReadFrom(input)
                .Process(i => i > 0 ? throw new FormatException("bad") : i)
                .DeadLetterTo(deadLetters)),
            options => options.ErrorBackoffJitter = 0, // exact waits
            time);

        await harness.StartAsync();
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(100)); // ErrorBackoff
        time.Advance(TimeSpan.FromMilliseconds(100));
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(200));
        time.Advance(TimeSpan.FromMilliseconds(200));
        await input.WaitForAcknowledgementsAsync(1);

        deadLetters.Attempts.Should().Be(3);
        deadLetters.Items.Should().ContainSingle().Which.Exception.Should().BeOfType<FormatException>();
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public async Task DeadLetterTo_OutputFailsPermanently_FailureIsLoggedAndItemAcknowledgedFailed()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var deadLetters = new ScriptedOutput<ProcessingFailure>("dead-letters")
        {
            Fault = (_, _) => new InvalidOperationException("record too large"),
            Transient = _ => false,
        };
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("dead-letter-broken", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new FormatException("bad") : i)
            .DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
        deadLetters.Attempts.Should().Be(1);
        harness.LogsAtOrAbove(LogLevel.Error).Should().ContainSingle(r => r.Message.Contains("Writing the dead letter of task 'dead-letter-broken'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReadFrom_UnreadableItem_GoesToTheHandlerAsAReadFailureAndIsNotRetried()
    {
        var input = new ScriptedInput<int>();
        var readError = new FormatException("not JSON");
        input.AddUnreadable(readError, raw: new byte[] { 1, 2, 3 });
        var failures = new ConcurrentBag<ProcessingFailure>();
        var stepCalls = 0;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("unreadable", task => task
            .ReadFrom(input)
            .WithRetry(3, TimeSpan.Zero)
            .Process(i =>
            {
                Interlocked.Increment(ref stepCalls);
                return i;
            })
            .OnError(failure =>
            {
                failures.Add(failure);
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        var failure = failures.Should().ContainSingle().Subject;
        failure.StepName.Should().Be(ProcessingFailure.ReadStepName);
        failure.Exception.Should().BeSameAs(readError);
        failure.Item.Should().BeNull();
        failure.SourceRecord.Should().BeEquivalentTo(new byte[] { 1, 2, 3 });
        failure.Attempts.Should().Be(1, "an unreadable item does not become readable by trying again");
        stepCalls.Should().Be(0);
        input.OutcomeAt(0).Should().Be(RunOutcome.Dropped);
    }

    [Fact]
    public async Task ReadFrom_UnreadableItemWithReplacement_StartsAtTheFirstStep()
    {
        var input = new ScriptedInput<int>();
        input.AddUnreadable(new FormatException("not JSON"));
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("unreadable-replaced", task => task
            .ReadFrom(input)
            .Process(i => i + 1)
            .WriteTo(output)
            .OnError(_ => ErrorDecision.Continue(41))));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal(42);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
    }

    [Fact]
    public async Task ReadFrom_UnreadableItemWithoutHandler_IsDeadLettered()
    {
        var input = new ScriptedInput<int>();
        input.AddUnreadable(new FormatException("not JSON"), raw: "garbage");
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("unreadable-dead-letter", task => task
            .ReadFrom(input)
            .Process(i => i)
            .DeadLetterTo(deadLetters)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        var letter = deadLetters.Items.Should().ContainSingle().Subject;
        letter.StepName.Should().Be("read");
        letter.SourceRecord.Should().Be("garbage");
        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public void ErrorDecision_Equality_ComparesKindAndReplacement()
    {
        ErrorDecision.Drop.Should().Be(ErrorDecision.Drop);
        ErrorDecision.Continue(1).Should().Be(ErrorDecision.Continue(1));
        (ErrorDecision.Continue(1) == ErrorDecision.Continue(1)).Should().BeTrue();
        (ErrorDecision.Continue(1) != ErrorDecision.Continue(2)).Should().BeTrue();
        ErrorDecision.Drop.Should().NotBe(ErrorDecision.DeadLetter);
        ErrorDecision.Continue(1).GetHashCode().Should().Be(ErrorDecision.Continue(1).GetHashCode());
        ErrorDecision.Continue("x").Kind.Should().Be(ErrorDecisionKind.Continue);
        ErrorDecision.Continue("x").Replacement.Should().Be("x");
        default(ErrorDecision).Kind.Should().Be(ErrorDecisionKind.DeadLetter, "the default decision is the safe one");
    }
}
