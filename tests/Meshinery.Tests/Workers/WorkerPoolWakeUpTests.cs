using System.Runtime.CompilerServices;

namespace Meshinery.Tests.Workers;

/// <summary>
/// No lost wake-up: items queued while workers are going to sleep (the race between an enqueue and a worker's last look
/// at the queues, its spin back-off and its blocking wait) always run. A lost wake-up leaves an item queued with every
/// worker asleep, so its round never completes and the deadline fails the test.
/// </summary>
public class WorkerPoolWakeUpTests
{
    private const int Rounds = 4_000;

    [Theory]
    [InlineData(1, null)]
    [InlineData(4, null)]
    [InlineData(1, 4)]
    public void WorkerPool_ShortItemsFromTwoProducersInRounds_EveryItemRuns(int threads, int? maxThreads)
    {
        // A short idle timeout makes the elastic pool shrink and grow all the time, racing that path too.
        using var pool = new WorkerPool("wake", threads, maxThreads, idleTimeout: TimeSpan.FromMilliseconds(1));
        pool.Start();
        var executed = 0;
        var expected = 0;
        var random = new Random(12);
        for (var round = 0; round < Rounds; round++)
        {
            // Each round starts with the workers idle or on their way to sleep, so its items race with going to sleep.
            var perProducer = random.Next(1, 4);
            var lanes = random.Next(3);
            using var done = new CountdownEvent(2 * perProducer);
            using var start = new Barrier(2);
            var producers = Enumerable.Range(0, 2).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < perProducer; i++)
                {
                    pool.Enqueue(new Work(() => Interlocked.Increment(ref executed), done), resumed: lanes == 1, highPriority: lanes == 2);
                }
            })).ToList();
            producers.ForEach(p => p.Start());
            producers.ForEach(p => p.Join());
            expected += 2 * perProducer;
            if (!done.Wait(Deadline.Default))
            {
                throw new TimeoutException(
                    $"Round {round}: {done.CurrentCount} of {2 * perProducer} items never ran ({pool.Sleeping} of {pool.Size} workers asleep): a lost wake-up.");
            }
        }

        Volatile.Read(ref executed).Should().Be(expected, "every queued item ran exactly once");
        pool.Stop();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void WorkerPool_EachItemQueuedAtARandomMomentOfTheWorkersGoingToSleep_EveryItemRuns(int threads)
    {
        // Each producer queues one item, waits for it (busy, so it is back at once), then waits a random few hundred
        // nanoseconds to microseconds: the next enqueue lands anywhere in a worker's path from its last item to its sleep,
        // including between its announcing idleness and its last look at the queues.
        using var pool = new WorkerPool("moment", threads);
        pool.Start();
        const int PerProducer = 20_000;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var producers = Enumerable.Range(0, 2).Select(p => new Thread(() =>
        {
            var random = new Random(p);
            var ran = new StrongBox<int>();
            for (var i = 0; i < PerProducer && failures.IsEmpty; i++)
            {
                var deadline = Environment.TickCount64 + (long)Deadline.Default.TotalMilliseconds;
                pool.Enqueue(new Flag(ran), resumed: (i & 1) == 1);
                var spin = default(SpinWait);
                while (Volatile.Read(ref ran.Value) == 0)
                {
                    if (Environment.TickCount64 > deadline)
                    {
                        failures.Enqueue($"producer {p}, item {i}: never ran ({pool.Sleeping} of {pool.Size} workers asleep), a lost wake-up");
                        return;
                    }

                    spin.SpinOnce(sleep1Threshold: -1);
                }

                ran.Value = 0;
                Thread.SpinWait(random.Next(0, 400));
            }
        })).ToList();
        producers.ForEach(p => p.Start());
        producers.ForEach(p => p.Join());
        failures.Should().BeEmpty();
        pool.Stop();
    }

    [Fact]
    public void WorkerPool_ItemsQueuedFromWorkersWhileOthersSleep_EveryItemRuns()
    {
        // Items that queue the next one from a worker (a chain, like a run's next step) while other chains start from
        // outside: the enqueue then races with the enqueuing worker's own search and with sleepers.
        using var pool = new WorkerPool("chain", 3);
        pool.Start();
        const int Chains = 2_000;
        const int Length = 5;
        using var done = new CountdownEvent(Chains);
        var executed = 0;
        for (var c = 0; c < Chains; c++)
        {
            pool.Enqueue(new Chain(pool, Length, () => Interlocked.Increment(ref executed), done));
        }

        done.Wait(Deadline.Default).Should().BeTrue($"every chain finishes ({done.CurrentCount} of {Chains} did not: a lost wake-up)");
        Volatile.Read(ref executed).Should().Be(Chains * Length, "every step of every chain ran once");
        pool.Stop();
    }

    private sealed class Work(Action action, CountdownEvent done) : IWorkItem
    {
        public void Execute()
        {
            action();
            done.Signal();
        }
    }

    private sealed class Flag(StrongBox<int> ran) : IWorkItem
    {
        public void Execute() => Volatile.Write(ref ran.Value, 1);
    }

    private sealed class Chain(WorkerPool pool, int left, Action onStep, CountdownEvent done) : IWorkItem
    {
        public void Execute()
        {
            onStep();
            if (left > 1)
            {
                pool.Enqueue(new Chain(pool, left - 1, onStep, done), resumed: true);
            }
            else
            {
                done.Signal();
            }
        }
    }
}
