namespace Meshinery.Tests.Workers;

/// <summary>
/// An elastic pool shrinks under light steady load, not only when fully idle: a wake-up goes to the most recently idle
/// worker, so the light load stays on few threads and the surplus ones reach their idle timeout.
/// </summary>
public class ElasticPoolShrinkTests
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task WorkerPool_LightSteadyLoadAfterABurst_ShrinksThenGrowsAgainUnderANewBurst()
    {
        using var pool = new WorkerPool("shrink", 1, maxThreads: 8, idleTimeout: IdleTimeout);
        var executed = 0;
        var enqueued = 0;
        pool.Start();

        // A burst of blocking steps grows the pool to its maximum.
        await BurstAsync(pool, 8, () => Interlocked.Increment(ref executed));
        enqueued += 8;

        // Light steady load: one short step at a time, each queued while every thread sleeps, so each needs a wake-up.
        // Woken longest sleeper first, the 8 threads would share it and none would reach the idle timeout.
        var deadline = DateTime.UtcNow + Deadline.Default;
        var steady = 0;
        while (pool.Size > 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The pool did not shrink under light load: {pool.Size} threads after {steady} steps.");
            }

            SpinWait.SpinUntil(() => pool.Sleeping == pool.Size, Deadline.Default).Should().BeTrue("every thread goes to sleep");
            using var done = new CountdownEvent(1);
            pool.Enqueue(new Work(() => Interlocked.Increment(ref executed), done));
            enqueued++;
            steady++;
            done.Wait(Deadline.Default).Should().BeTrue("the steady step runs");
        }

        pool.Size.Should().BeLessThanOrEqualTo(2);
        steady.Should().BeGreaterThan(1, "the pool shrank while the light load kept going, not before it started");

        // A new burst grows it again to the maximum.
        await BurstAsync(pool, 8, () => Interlocked.Increment(ref executed));
        enqueued += 8;
        Volatile.Read(ref executed).Should().Be(enqueued, "no step was lost");
        pool.Stop();
    }

    /// <summary>Queues <paramref name="count"/> steps that block until all of them run at once, then lets them finish.</summary>
    private static async Task BurstAsync(WorkerPool pool, int count, Action onRun)
    {
        using var gate = new ManualResetEventSlim();
        using var done = new CountdownEvent(count);
        var running = new Arrivals();
        for (var i = 0; i < count; i++)
        {
            pool.Enqueue(new Work(
                () =>
                {
                    running.Enter();
                    gate.WaitOrFail("the burst's gate");
                    running.Leave();
                    onRun();
                },
                done));
        }

        await running.WaitForAsync(count);
        pool.Size.Should().Be(count, "a burst of blocking steps grows the pool to its maximum");
        gate.Set();
        done.Wait(Deadline.Default).Should().BeTrue("the burst's steps finish");
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
