using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Meshinery.Tests.Workers;

/// <summary>
/// An elastic worker pool grows while steps wait for a worker, up to its maximum, and releases threads that stayed idle
/// for its idle timeout, down to its minimum; its size is a metric.
/// </summary>
public class ElasticPoolTests
{
    [Fact]
    public async Task WorkerPool_StepsWaitForAWorker_GrowsToTheMaximumThenShrinksBackWhenIdle()
    {
        using var pool = new WorkerPool("elastic", 1, maxThreads: 4, idleTimeout: TimeSpan.FromMilliseconds(100));
        using var gate = new ManualResetEventSlim();
        var running = new Arrivals();
        using var done = new CountdownEvent(6);
        pool.Start();
        pool.Size.Should().Be(1);

        for (var i = 0; i < 6; i++)
        {
            pool.Enqueue(new Work(
                () =>
                {
                    running.Enter();
                    gate.Wait(Deadline.Default);
                    running.Leave();
                },
                done));
        }

        await running.WaitForAsync(4);
        pool.Size.Should().Be(4, "it grew while steps waited, and stops at its maximum");
        running.MaxPresent.Should().Be(4);

        gate.Set();
        done.Wait(Deadline.Default).Should().BeTrue();
        await UntilAsync(() => pool.Size == 1, "the pool to shrink back to its minimum");
        pool.Stop();
    }

    [Fact]
    public async Task WithWorkerThreadsMinMax_BlockingSteps_RunOnMoreThreadsAndTheSizeIsAMetric()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        using var gate = new ManualResetEventSlim();
        var running = new Arrivals();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("elastic-task", task => task
            .ReadFrom(input)
            .WithWorkerThreads(1, 3, TimeSpan.FromMinutes(1))
            .Do(_ =>
            {
                running.Enter();
                gate.Wait(Deadline.Default);
            })));
        using var sizes = new MetricCollector<int>(harness.MeterFactory, "Meshinery", "meshinery.workers.size");

        await harness.StartAsync();
        await running.WaitForAsync(3);
        sizes.RecordObservableInstruments();

        sizes.GetMeasurementSnapshot().Should().Contain(m => Equals(m.Tags["meshinery.pool"], "elastic-task") && m.Value == 3);
        gate.Set();
        await input.WaitForAcknowledgementsAsync(3);
    }

    [Theory]
    [InlineData(4, 2, 1_000, "the maximum of an elastic pool must not be less than its minimum (was min 4, max 2)")]
    [InlineData(1, 2, 0, "the idle timeout of an elastic pool must be greater than 0")]
    public void WithWorkerThreadsMinMax_Invalid_FailsAtStartNamingTheTaskAndTheSetting(int min, int max, int idleMs, string message)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("bad-pool", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithWorkerThreads(min, max, TimeSpan.FromMilliseconds(idleMs))));
        var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("bad-pool");
        error.Setting.Should().Be("WorkerThreads");
        error.Message.Should().Contain(message);
    }

    /// <summary>Waits for a condition that no event announces (a thread's exit after its idle timeout), with a deadline.</summary>
    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Deadline.Default;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(10);
        }
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
