namespace Meshinery.Tests.Scheduling;

/// <summary>In-flight limits hold, and a full task's inputs are not polled.</summary>
public class BackPressureTests
{
    [Fact]
    public async Task Engine_TaskLimit_InFlightNeverExceedsItAndPollsAskOnlyForFreeSlots()
    {
        const int limit = 8;
        const int count = 200;
        var input = new ScriptedInput<int> { Bound = limit };
        input.Add(Enumerable.Range(0, count));
        var inStep = new Arrivals();
        using var gate = new ManualResetEventSlim();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("bounded", task => task
                .ReadFrom(input)
                .WithMaxInFlight(limit)
                .Process(i =>
                {
                    inStep.Enter();
                    try
                    {
                        if (i < limit)
                        {
                            gate.WaitOrFail("the test to see the task full"); // hold the first runs: the task is full
                        }
                        else
                        {
                            Thread.Sleep(2); // blocking work: keeps the task full most of the time
                        }

                        return i;
                    }
                    finally
                    {
                        inStep.Leave();
                    }
                })),
            options =>
            {
                options.WorkerThreads = 32; // more workers than slots: only the in-flight limit bounds concurrency
                options.IdlePollInterval = TimeSpan.FromMilliseconds(1); // a full task is revisited often
            });

        await harness.StartAsync();
        await inStep.WaitForAsync(limit);
        harness.Engine.GetStatistics("bounded").InFlight.Should().Be(limit);
        gate.Set();
        await input.WaitForAcknowledgementsAsync(count);
        await harness.StopAsync();

        inStep.MaxPresent.Should().Be(limit);
        input.MaxOutstanding.Should().Be(limit);
        input.Violations.Should().BeEmpty("the engine never polls for more than its free slots, and never while full");
        input.RequestedSizes.Should().OnlyContain(size => size >= 1 && size <= limit);
        input.Duplicates.Should().BeEmpty();
    }

    [Fact]
    public async Task Engine_EngineWideLimit_BoundsAllTasksTogether()
    {
        const int limit = 6;
        var inStep = new Arrivals();
        var entered = 0;
        using var gate = new ManualResetEventSlim();
        var first = new ScriptedInput<int>("first") { Bound = limit };
        var second = new ScriptedInput<int>("second") { Bound = limit };
        first.Add(Enumerable.Range(0, 60));
        second.Add(Enumerable.Range(0, 60));
        int Step(int i)
        {
            inStep.Enter();
            try
            {
                if (Interlocked.Increment(ref entered) <= limit)
                {
                    gate.WaitOrFail("the test to see the engine full");
                }
                else
                {
                    Thread.Sleep(1);
                }

                return i;
            }
            finally
            {
                inStep.Leave();
            }
        }

        await using var harness = EngineHarness.Create(
            mesh => mesh
                .AddTask<int>("first", task => task.ReadFrom(first).Process(Step))
                .AddTask<int>("second", task => task.ReadFrom(second).Process(Step)),
            options =>
            {
                options.MaxInFlight = limit;
                options.WorkerThreads = 16;
                options.IdlePollInterval = TimeSpan.FromMilliseconds(1);
            });

        await harness.StartAsync();
        await inStep.WaitForAsync(limit);
        harness.Engine.InFlight.Should().Be(limit);
        gate.Set();
        await first.WaitForAcknowledgementsAsync(60);
        await second.WaitForAcknowledgementsAsync(60);

        inStep.MaxPresent.Should().Be(limit);
        first.Violations.Should().BeEmpty();
        second.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Engine_TaskFull_FreedSlotsRefillFromBacklog()
    {
        // A full task resumes polling as its runs finish (the wake-up on freed slots is not lost).
        const int limit = 32;
        var input = new ScriptedInput<int> { Bound = limit };
        input.Add(Enumerable.Range(0, 1_000));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("refill", task => task
                .ReadFrom(input)
                .WithMaxInFlight(limit)
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    return i;
                })),
            options => options.IdlePollInterval = TimeSpan.FromHours(1)); // only wake-ups can refill

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1_000);

        input.Violations.Should().BeEmpty();
        input.Outcomes.Should().HaveCount(1_000);
    }

    [Fact]
    public async Task Engine_EngineWideLimitFull_FreedSlotsWakeThePollLoop()
    {
        var input = new ScriptedInput<int> { Bound = 32 };
        input.Add(Enumerable.Range(0, 1_000));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("global-refill", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    await Task.Yield();
                    return i;
                })),
            options =>
            {
                options.MaxInFlight = 32; // the engine-wide limit binds, not the task's (256)
                options.IdlePollInterval = TimeSpan.FromHours(1); // only wake-ups can refill
            });

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1_000);

        input.Violations.Should().BeEmpty();
        input.MaxOutstanding.Should().BeLessThanOrEqualTo(32);
    }

    [Fact]
    public async Task Poll_ManyFreeSlots_AsksForAtMost1024ItemsAtOnce()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 3_000));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("big-batches", task => task
            .ReadFrom(input)
            .WithMaxInFlight(5_000)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(3_000);

        input.RequestedSizes[0].Should().Be(1_024);
        input.RequestedSizes.Should().OnlyContain(size => size <= 1_024);
    }
}
