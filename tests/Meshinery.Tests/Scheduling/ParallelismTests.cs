using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meshinery.Tests.Scheduling;

/// <summary>Blocking steps run on the bounded worker pools, many at once, never on the .NET thread pool.</summary>
public class ParallelismTests
{
    [Fact]
    public async Task Engine_BlockingStepOn200Workers_FinishesFarFasterThanSequentially()
    {
        const int count = 2_000;
        var blockFor = TimeSpan.FromMilliseconds(100);
        var sequential = blockFor * count; // 200 s
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var inStep = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("blocking", task => task
                .ReadFrom(input)
                .WithMaxInFlight(400)
                .Process(i =>
                {
                    inStep.Enter();
                    Thread.Sleep(blockFor); // the workload: a blocking call
                    inStep.Leave();
                    return i;
                })),
            options => options.WorkerThreads = 200);

        var stopwatch = Stopwatch.StartNew();
        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count, TimeSpan.FromSeconds(60));
        stopwatch.Stop();

        stopwatch.Elapsed.Should().BeLessThan(sequential / 4, "200 workers run the blocking calls side by side (ideally in ~1 s)");
        inStep.MaxPresent.Should().BeGreaterThan(1).And.BeLessThanOrEqualTo(200, "no more steps block at once than there are workers");
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task Process_SyncStep_RunsOnDedicatedWorkerThreadNotThreadPool()
    {
        var threads = new ConcurrentBag<(string? Name, bool IsThreadPool)>();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 50));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("dedicated", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                threads.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread));
                return i;
            })
            .Process(async (i, ct) =>
            {
                await Task.Yield(); // continues on the thread pool ...
                return i;
            })
            .Process(i =>
            {
                threads.Add((Thread.CurrentThread.Name, Thread.CurrentThread.IsThreadPoolThread)); // ... but this step is back on a worker
                return i;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(50);

        threads.Should().HaveCount(100);
        threads.Should().OnlyContain(t => !t.IsThreadPool && t.Name != null && t.Name.StartsWith("meshinery-worker-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithWorkerThreads_OwnPool_StepsRunOnItsThreadsAndNoMoreAtOnce()
    {
        var names = new ConcurrentBag<string?>();
        var inStep = new Arrivals();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 30));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("own-pool", task => task
            .ReadFrom(input)
            .WithWorkerThreads(3)
            .Process(i =>
            {
                inStep.Enter();
                names.Add(Thread.CurrentThread.Name);
                Thread.Sleep(5); // blocking work
                inStep.Leave();
                return i;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(30);

        names.Distinct().Should().BeSubsetOf(["meshinery-own-pool-0", "meshinery-own-pool-1", "meshinery-own-pool-2"]);
        inStep.MaxPresent.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task WithWorkerThreads_TaskBlocksItsOwnPool_OtherTaskKeepsRunning()
    {
        using var gate = new ManualResetEventSlim();
        var blocked = new Arrivals();
        var stuck = new ScriptedInput<int>("stuck");
        stuck.Add(Enumerable.Range(0, 10));
        var free = new ScriptedInput<int>("free");
        free.Add(Enumerable.Range(0, 100));
        await using var harness = EngineHarness.Create(
            mesh => mesh
                .AddTask<int>("stuck", task => task
                    .ReadFrom(stuck)
                    .WithWorkerThreads(2)
                    .Process(i =>
                    {
                        blocked.Arrive();
                        gate.WaitOrFail("the test to release the stuck task");
                        return i;
                    }))
                .AddTask<int>("free", task => task.ReadFrom(free).Process(i => i + 1)),
            options => options.WorkerThreads = 2);

        await harness.StartAsync();
        await blocked.WaitForAsync(2); // both threads of the stuck task's pool are blocked
        await free.WaitForAcknowledgementsAsync(100);
        stuck.Acknowledged.Should().Be(0);
        gate.Set();
        await stuck.WaitForAcknowledgementsAsync(10);

        free.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        stuck.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task Engine_RunResumedAfterAnAwait_GoesAheadOfFreshRuns()
    {
        // One worker, many fresh runs queued behind a blocking first step: a run coming back from its await must not
        // wait for all of them (finishing started work first keeps latency low and slots turning over).
        const int count = 50;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var order = new ConcurrentQueue<(string Step, int Item)>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("resumed-first", task => task
                .ReadFrom(input)
                .Process(i =>
                {
                    order.Enqueue(("first", i));
                    Thread.Sleep(5); // blocking work
                    return i;
                })
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    return i;
                })
                .Process(i =>
                {
                    order.Enqueue(("last", i));
                    return i;
                })),
            options => options.WorkerThreads = 1);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        var sequence = order.ToList();
        sequence.IndexOf(("last", 0)).Should().BeLessThan(sequence.IndexOf(("first", count - 1)), "the resumed run 0 is not queued behind every fresh run");
    }
}
