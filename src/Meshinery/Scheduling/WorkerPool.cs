using System.Collections.Concurrent;

namespace Meshinery;

/// <summary>
/// A fixed set of dedicated worker threads: the bounded scheduler steps run on. Blocking steps occupy these threads,
/// never the .NET thread pool. The engine queues runs directly (no <see cref="Task"/> per step);
/// <see cref="Scheduler"/> exposes the same threads as a <see cref="TaskScheduler"/> for fork branches.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// The starvation bound of priority lanes: after this many high-priority steps in a row, a worker takes a waiting
    /// normal step before the next high one.
    /// </summary>
    public const int HighPriorityBurst = 8;

    private readonly ConcurrentQueue<IWorkItem> _queue = new();

    // High-priority runs (the ambulance lane) go ahead of everything else, up to HighPriorityBurst in a row per worker.
    private readonly ConcurrentQueue<IWorkItem> _high = new();

    // Runs coming back from an await or a retry go ahead of fresh ones: finishing started work first keeps in-flight
    // slots turning over and end-to-end latency low when fresh runs start with a long blocking step.
    private readonly ConcurrentQueue<IWorkItem> _resumed = new();
    private readonly SemaphoreSlim _wakeUp = new(0);
    private readonly Thread[] _threads;
    private int _idle;
    private int _searching;
    private volatile bool _stopping;

    public WorkerPool(string name, int threads)
    {
        Scheduler = new WorkerTaskScheduler(this, threads);
        _threads = new Thread[threads];
        for (var i = 0; i < threads; i++)
        {
            _threads[i] = new Thread(Work) { IsBackground = true, Name = $"meshinery-{name}-{i}" };
        }
    }

    public TaskScheduler Scheduler { get; }

    public void Start()
    {
        foreach (var thread in _threads)
        {
            thread.UnsafeStart();
        }
    }

    public void Enqueue(IWorkItem item, bool resumed = false, bool highPriority = false)
    {
        (highPriority ? _high : resumed ? _resumed : _queue).Enqueue(item);

        // The enqueue must be visible before the searcher count is read (a worker going idle does the opposite, with
        // interlocked operations): a full fence, not just acquire/release, keeps the two from missing each other.
        Interlocked.MemoryBarrier();

        // Wake a sleeping worker only when no worker is awake looking for work: with hundreds of idle threads, waking
        // one per item would cost a context switch per item. A worker that takes an item while more are queued wakes
        // the next one, so a burst still fans out to as many threads as it needs (blocking steps).
        if (Volatile.Read(ref _searching) == 0)
        {
            WakeOne();
        }
    }

    /// <summary>Lets the threads exit once the queue is empty. Threads stuck in user code are background threads.</summary>
    public void Stop()
    {
        _stopping = true;
        _wakeUp.Release(_threads.Length);
    }

    public void Dispose() => _wakeUp.Dispose();

    private void Work()
    {
        var highStreak = 0; // high-priority steps this worker took in a row
        Interlocked.Increment(ref _searching);
        while (true)
        {
            if (TryTake(ref highStreak, out var item))
            {
                // This worker stops searching; if it was the last searcher and work remains, hand that work to another.
                if (Interlocked.Decrement(ref _searching) == 0 && HasWork)
                {
                    WakeOne();
                }

                item.Execute();
                Interlocked.Increment(ref _searching);
                continue;
            }

            // Only a lone searcher spins: others sleep at once, so idle spinning costs one thread at most.
            if (Volatile.Read(ref _searching) == 1 && SpinForWork())
            {
                continue;
            }

            if (_stopping)
            {
                Interlocked.Decrement(ref _searching);
                return;
            }

            // Announce idleness before the last look at the queues, so an enqueue racing with it either sees a searcher
            // or an idle worker to wake: a wake-up is never lost.
            Interlocked.Decrement(ref _searching);
            Interlocked.Increment(ref _idle);
            if (!HasWork)
            {
                _wakeUp.Wait();
            }

            Interlocked.Decrement(ref _idle);
            Interlocked.Increment(ref _searching);
        }
    }

    private bool HasWork => !_high.IsEmpty || !_resumed.IsEmpty || !_queue.IsEmpty;

    private bool TryTake(ref int highStreak, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out IWorkItem item)
    {
        if (highStreak < HighPriorityBurst && _high.TryDequeue(out item))
        {
            highStreak++;
            return true;
        }

        highStreak = 0;
        return _resumed.TryDequeue(out item) || _queue.TryDequeue(out item) || _high.TryDequeue(out item);
    }

    /// <summary>Looks for work a few microseconds before sleeping: the next item often arrives within that time.</summary>
    private bool SpinForWork()
    {
        for (var i = 0; i < 20; i++)
        {
            Thread.SpinWait(20);
            if (HasWork)
            {
                return true;
            }
        }

        return false;
    }

    private void WakeOne()
    {
        if (Volatile.Read(ref _idle) > 0)
        {
            _wakeUp.Release();
        }
    }

    private sealed class WorkerTaskScheduler(WorkerPool pool, int threads) : TaskScheduler
    {
        public override int MaximumConcurrencyLevel => threads;

        // Fork branches belong to runs already under way.
        protected override void QueueTask(Task task) => pool.Enqueue(new TaskWorkItem(this, task), resumed: true);

        // Inlining would let a branch run on a thread of another scheduler (or the run loop); keep them on the pool.
        protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

        protected override IEnumerable<Task> GetScheduledTasks() =>
            pool._high.Concat(pool._resumed).Concat(pool._queue).OfType<TaskWorkItem>().Select(w => w.Task);

        private sealed class TaskWorkItem(WorkerTaskScheduler scheduler, Task task) : IWorkItem
        {
            public Task Task { get; } = task;

            public void Execute() => scheduler.TryExecuteTask(Task);
        }
    }
}

/// <summary>Something a worker thread executes.</summary>
internal interface IWorkItem
{
    void Execute();
}
