using System.Collections.Concurrent;

namespace Meshinery.Tests.Processing;

/// <summary>A fork runs several branches on the same item at once, on the worker pool, and joins their results.</summary>
public class ForkJoinTests
{
    [Fact]
    public async Task ForkJoin_TwoBranchesOfDifferentTypes_JoinsTheirResults()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var output = new InMemoryOutput<string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("fork-two", task => task
            .ReadFrom(input)
            .ForkJoin(
                async (i, ct) =>
                {
                    await Task.Yield();
                    return i * 10;
                },
                (i, ct) => ValueTask.FromResult($"#{i}"),
                (i, price, label) => $"{label}={price}")
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        output.Items.Should().BeEquivalentTo(["#1=10", "#2=20", "#3=30"]);
    }

    [Fact]
    public async Task ForkJoin_ManyBranches_ResultsArriveInBranchOrder()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new InMemoryOutput<string>();
        var branches = Enumerable.Range(0, 5).Select<int, Func<int, CancellationToken, ValueTask<int>>>(b => async (i, ct) =>
        {
            await Task.Delay(5 - b, ct); // later branches finish first
            return (i * 100) + b;
        });
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("fork-many", task => task
            .ReadFrom(input)
            .ForkJoin(branches, (i, results) => string.Join(",", results))
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal("100,101,102,103,104");
    }

    [Fact]
    public async Task ForkJoin_BlockingBranches_RunConcurrentlyOnWorkerThreads()
    {
        // Each branch blocks until all three have started: that only ends if they run at the same time.
        var input = new ScriptedInput<int>();
        input.Add(1);
        var output = new InMemoryOutput<int>();
        var threads = new ConcurrentBag<string?>();
        using var allStarted = new CountdownEvent(3);
        Func<int, CancellationToken, ValueTask<int>> Blocking(int result) => (i, ct) =>
        {
            threads.Add(Thread.CurrentThread.Name);
            allStarted.Signal();
            allStarted.Wait(Deadline.Default, ct).Should().BeTrue("the branches run concurrently");
            return ValueTask.FromResult(result);
        };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("fork-blocking", task => task
                .ReadFrom(input)
                .ForkJoin([Blocking(1), Blocking(2), Blocking(3)], (i, results) => results.Sum())
                .WriteTo(output)),
            options => options.WorkerThreads = 4);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        output.Items.Should().Equal(6);
        threads.Should().HaveCount(3).And.OnlyContain(name => name != null && name.StartsWith("meshinery-worker-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForkJoin_BranchesOnOneWorkerThread_DoNotDeadlock()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 20));
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("fork-one-thread", task => task
                .ReadFrom(input)
                .ForkJoin(
                    (i, ct) => ValueTask.FromResult(i),
                    async (i, ct) =>
                    {
                        await Task.Yield();
                        return i;
                    },
                    (i, a, b) => a + b)
                .WriteTo(output)),
            options => options.WorkerThreads = 1);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(20);

        output.Items.Order().Should().Equal(Enumerable.Range(0, 20).Select(i => i * 2));
    }

    [Fact]
    public async Task ForkJoin_BranchThrows_StepFailsWithTheBranchException()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        var failures = new ConcurrentBag<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("fork-fails", task => task
            .ReadFrom(input)
            .ForkJoin(
                (i, ct) => ValueTask.FromResult(i),
                async (i, ct) =>
                {
                    await Task.Yield();
                    return i > 0 ? throw new InvalidOperationException("inventory down") : 0;
                },
                (i, a, b) => a + b,
                "enrich")
            .OnError(failure =>
            {
                failures.Add(failure);
                return ErrorDecision.Drop;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        var failure = failures.Should().ContainSingle().Subject;
        failure.StepName.Should().Be("enrich");
        failure.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("inventory down");
    }

    [Fact]
    public async Task ForkJoin_JoinThrows_StepFails()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("join-fails", task => task
            .ReadFrom(input)
            .ForkJoin(
                [(i, ct) => ValueTask.FromResult(i)],
                (int i, int[] results) => results[5])));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        input.OutcomeAt(0).Should().Be(RunOutcome.Failed);
    }
}
