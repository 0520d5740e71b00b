using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Priority;

/// <summary>
/// Priority lanes: high-priority steps go first on a worker pool with a bounded starvation of normal ones (ambulance),
/// or run on reserved workers that normal steps never use (carpool); a priority input is a lane of its own.
/// </summary>
public class PriorityTests
{
    [Fact]
    public void WorkerPool_HighAndNormalStepsQueued_HighFirstButANormalOneAfterEveryBurst()
    {
        using var pool = new WorkerPool("lanes", 1);
        using var blocker = new ManualResetEventSlim();
        using var blocking = new ManualResetEventSlim();
        var order = new ConcurrentQueue<string>();
        using var done = new CountdownEvent(1 + 3 + 20);
        pool.Start();
        pool.Enqueue(new Work(
            () =>
            {
                blocking.Set();
                blocker.Wait();
            },
            done));
        blocking.WaitOrFail("the only worker to block");
        for (var i = 0; i < 3; i++)
        {
            var name = $"n{i}";
            pool.Enqueue(new Work(() => order.Enqueue(name), done));
        }

        for (var i = 0; i < 20; i++)
        {
            var name = $"h{i}";
            pool.Enqueue(new Work(() => order.Enqueue(name), done), highPriority: true);
        }

        blocker.Set(); // everything above is queued while the only worker is blocked
        done.Wait(Deadline.Default).Should().BeTrue();
        pool.Stop();

        var burst = WorkerPool.HighPriorityBurst;
        string[] expected =
        [
            .. Enumerable.Range(0, burst).Select(i => $"h{i}"), "n0",
            .. Enumerable.Range(burst, burst).Select(i => $"h{i}"), "n1",
            .. Enumerable.Range(2 * burst, 20 - (2 * burst)).Select(i => $"h{i}"), "n2",
        ];
        order.Should().Equal(expected);
    }

    [Fact]
    public async Task WithReservedWorkers_NormalWorkerBlocked_HighItemsStillRunAndNormalOnesWait()
    {
        var input = new ScriptedInput<int>();
        var normalBlocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        var threads = new ConcurrentDictionary<int, string>();
        var started = new ConcurrentQueue<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("carpool", task => task
            .ReadFrom(input)
            .WithWorkerThreads(2)
            .WithReservedWorkers(1)
            .WithPriority(i => i >= 100)
            .Process(i =>
            {
                started.Enqueue(i);
                threads[i] = Thread.CurrentThread.Name!;
                if (i == 0)
                {
                    normalBlocked.SetResult();
                    release.Wait(Deadline.Default); // blocks the one normal worker
                }

                return i;
            })));

        await harness.StartAsync();
        input.Add(0);
        await normalBlocked.Task.Within("the normal worker to block");
        input.Add(1, 100, 101);
        await input.WaitForAcknowledgementsAsync(2); // both high items, on the reserved worker

        started.Should().NotContain(1, "a normal item never runs on the reserved worker");
        threads[100].Should().Be("meshinery-carpool-reserved-0");
        threads[101].Should().Be("meshinery-carpool-reserved-0");

        release.Set();
        await input.WaitForAcknowledgementsAsync(4);
        threads[1].Should().Be("meshinery-carpool-0");
    }

    [Fact]
    public async Task ReadPriorityFrom_ItemsOfThePriorityInput_RunOnTheReservedWorkers()
    {
        var normal = new ScriptedInput<int>("normal");
        var urgent = new ScriptedInput<int>("urgent");
        var threads = new ConcurrentDictionary<int, string>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("lane", task => task
            .ReadFrom(normal)
            .ReadPriorityFrom(urgent)
            .WithWorkerThreads(3)
            .WithReservedWorkers(1)
            .Do(i => threads[i] = Thread.CurrentThread.Name!)));

        await harness.StartAsync();
        normal.Add(1, 2, 3);
        urgent.Add(10, 11);
        await normal.WaitForAcknowledgementsAsync(3);
        await urgent.WaitForAcknowledgementsAsync(2);

        threads.Where(t => t.Key >= 10).Should().OnlyContain(t => t.Value == "meshinery-lane-reserved-0");
        threads.Where(t => t.Key < 10).Should().OnlyContain(t => t.Value.StartsWith("meshinery-lane-", StringComparison.Ordinal) && !t.Value.Contains("reserved", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithPriority_SelectorThrows_ItemTakesTheErrorPathAndOthersGoOn()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, -1, 2);
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("bad-priority", task => task
            .ReadFrom(input)
            .WithPriority(i => i < 0 ? throw new ArgumentOutOfRangeException(nameof(i), "no rank for negative items") : i > 1)
            .DeadLetterTo(deadLetters)
            .Process(i => i)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3);

        deadLetters.Items.Should().ContainSingle().Which.Should().Match<ProcessingFailure>(f => f.StepName == "priority" && (int)f.Item! == -1);
        input.OutcomeAt(0).Should().Be(RunOutcome.Completed);
        input.OutcomeAt(1).Should().Be(RunOutcome.Failed);
        input.OutcomeAt(2).Should().Be(RunOutcome.Completed);
    }

    [Theory]
    [InlineData(0, 4, true, "must be greater than 0 (was 0)")]
    [InlineData(2, null, true, "call WithWorkerThreads too")]
    [InlineData(4, 4, true, "must be less than WorkerThreads (4)")]
    [InlineData(1, 4, false, "nothing is high priority")]
    public void WithReservedWorkers_Invalid_FailsAtStartNamingTheTaskAndTheSetting(int reserved, int? threads, bool withPriority, string message)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("bad-carpool", task =>
        {
            var builder = task.ReadFrom(new ScriptedInput<int>()).WithReservedWorkers(reserved);
            if (threads is { } n)
            {
                builder.WithWorkerThreads(n);
            }

            if (withPriority)
            {
                builder.WithPriority(i => i > 0);
            }
        }));
        var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("bad-carpool");
        error.Setting.Should().Be("ReservedWorkers");
        error.Message.Should().Contain(message);
    }

    private sealed class Work(Action action, CountdownEvent done) : IWorkItem
    {
        public void Execute()
        {
            action();
            done.Signal();
        }
    }
}
