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
    private readonly string _name;
    private readonly int _minThreads;
    private readonly int _maxThreads;
    private readonly TimeSpan _idleTimeout;
    private int _threadCount; // threads started and not exited
    private int _nextThread;
    private int _idle;
    private int _searching;
    private volatile bool _stopping;

    /// <summary>A pool of <paramref name="threads"/> threads, or, with <paramref name="maxThreads"/> above it, an elastic one.</summary>
    /// <param name="name">Names the threads <c>meshinery-{name}-N</c>.</param>
    /// <param name="threads">The threads started with the pool, and the fewest it shrinks to.</param>
    /// <param name="maxThreads">The most threads: the pool starts one more whenever a step is queued with every thread busy.</param>
    /// <param name="idleTimeout">How long a thread above <paramref name="threads"/> waits for work before it exits.</param>
    public WorkerPool(string name, int threads, int? maxThreads = null, TimeSpan? idleTimeout = null)
    {
        _name = name;
        _minThreads = threads;
        _maxThreads = Math.Max(threads, maxThreads ?? threads);
        _idleTimeout = _maxThreads > _minThreads ? idleTimeout ?? TimeSpan.FromSeconds(30) : Timeout.InfiniteTimeSpan;
        Scheduler = new WorkerTaskScheduler(this, _maxThreads);
    }

    public TaskScheduler Scheduler { get; }

    /// <summary>The pool's name (the <c>meshinery.pool</c> tag of its size metric).</summary>
    public string Name => _name;

    /// <summary>Threads running now (between the minimum and the maximum of an elastic pool).</summary>
    public int Size => Volatile.Read(ref _threadCount);

    public void Start()
    {
        for (var i = 0; i < _minThreads; i++)
        {
            Interlocked.Increment(ref _threadCount);
            StartThread();
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
        if (Volatile.Read(ref _searching) == 0 && !WakeOne())
        {
            Grow(); // every thread is busy: an elastic pool starts another, up to its maximum
        }
    }

    /// <summary>Lets the threads exit once the queue is empty. Threads stuck in user code are background threads.</summary>
    public void Stop()
    {
        _stopping = true;
        _wakeUp.Release(_maxThreads);
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
                if (Interlocked.Decrement(ref _searching) == 0 && HasWork && !WakeOne())
                {
                    Grow(); // more work and nobody to take it: an elastic pool starts another thread
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
            var woken = HasWork || _wakeUp.Wait(_idleTimeout);
            Interlocked.Decrement(ref _idle);
            if (!woken && !HasWork && TryShrink())
            {
                return; // idle for the idle timeout in an elastic pool above its minimum: this thread is released
            }

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

    /// <summary>Wakes a sleeping worker; false when none sleeps.</summary>
    private bool WakeOne()
    {
        if (Volatile.Read(ref _idle) > 0)
        {
            _wakeUp.Release();
            return true;
        }

        return false;
    }

    private void Grow()
    {
        var count = Volatile.Read(ref _threadCount);
        while (count < _maxThreads && !_stopping)
        {
            var seen = Interlocked.CompareExchange(ref _threadCount, count + 1, count);
            if (seen == count)
            {
                StartThread();
                return;
            }

            count = seen;
        }
    }

    private bool TryShrink()
    {
        var count = Volatile.Read(ref _threadCount);
        while (count > _minThreads)
        {
            var seen = Interlocked.CompareExchange(ref _threadCount, count - 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }

        return false;
    }

    private void StartThread()
    {
        var index = Interlocked.Increment(ref _nextThread) - 1;
        new Thread(Work) { IsBackground = true, Name = $"meshinery-{_name}-{index}" }.UnsafeStart();
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
