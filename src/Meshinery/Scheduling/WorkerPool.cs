using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meshinery;

/// <summary>
/// A set of dedicated worker threads, fixed or elastic: the bounded scheduler steps run on. Blocking steps occupy these
/// threads, never the .NET thread pool. The engine queues runs directly (no <see cref="Task"/> per step);
/// <see cref="Scheduler"/> exposes the same threads as a <see cref="TaskScheduler"/> for fork branches.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// The starvation bound of priority lanes: after this many high-priority steps in a row, a worker takes a waiting
    /// normal step before the next high one.
    /// </summary>
    public const int HighPriorityBurst = 8;

    // The most idle turns a worker sleeps at once after its spins kept finding nothing; it then spins once to see
    // whether the load changed.
    private const int MaxSpinBackoff = 64;

    private readonly ConcurrentQueue<IWorkItem> _queue = new();

    // High-priority runs (the ambulance lane) go ahead of everything else, up to HighPriorityBurst in a row per worker.
    private readonly ConcurrentQueue<IWorkItem> _high = new();

    // Runs coming back from an await or a retry go ahead of fresh ones: finishing started work first keeps in-flight
    // slots turning over and end-to-end latency low when fresh runs start with a long blocking step.
    private readonly ConcurrentQueue<IWorkItem> _resumed = new();

    // Sleeping workers, the most recently idle last. A wake-up goes to the most recently idle one (LIFO): light load then
    // stays on the few threads it needs and the others reach their idle timeout, so an elastic pool shrinks. One shared
    // semaphore woke the longest sleeper (FIFO), spreading light work over every thread, so none ever timed out.
    private readonly LinkedList<Sleeper> _sleepers = new();
    private readonly Lock _sleepersLock = new();
    private readonly string _name;
    private readonly int _minThreads;
    private readonly int _maxThreads;
    private readonly TimeSpan _idleTimeout;
    private int _threadCount; // threads started and not exited
    private int _nextThread;
    private int _idle; // sleepers in _sleepers: written under _sleepersLock, read without it as a fast path
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

    /// <summary>Threads asleep waiting for a wake-up (the next queued step wakes the most recently idle of them).</summary>
    public int Sleeping => Volatile.Read(ref _idle);

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
        lock (_sleepersLock)
        {
            // A worker going to sleep after this sees _stopping under the same lock and does not sleep.
            while (_sleepers.Last is { } last)
            {
                Wake(last);
            }
        }
    }

    /// <summary>Nothing to release: each worker disposes its own wake-up signal when its thread exits.</summary>
    public void Dispose()
    {
    }

    private void Work()
    {
        using var sleeper = new Sleeper();
        var highStreak = 0; // high-priority steps this worker took in a row
        var spinSkips = 0; // idle turns left on which this worker sleeps without spinning
        var spinBackoff = 0; // how many turns the next failed spin skips
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

            // Only a lone searcher spins: others sleep at once, so idle spinning costs one thread at most. And only while
            // spinning pays: each spin that finds nothing doubles the idle turns this worker sleeps at once (up to
            // MaxSpinBackoff), one that finds work spins again next time. Under light load (async steps, a few µs of
            // work per wake-up) the next item rarely arrives within the spin, so the spin was most of a wake-up's CPU.
            if (Volatile.Read(ref _searching) == 1)
            {
                if (spinSkips > 0)
                {
                    spinSkips--;
                }
                else if (SpinForWork())
                {
                    spinBackoff = 0;
                    continue;
                }
                else
                {
                    spinBackoff = Math.Min(Math.Max(1, spinBackoff * 2), MaxSpinBackoff);
                    spinSkips = spinBackoff;
                }
            }

            if (_stopping)
            {
                Interlocked.Decrement(ref _searching);
                return;
            }

            // Announce idleness before the last look at the queues, so an enqueue racing with it either sees a searcher
            // or an idle worker to wake: a wake-up is never lost.
            Interlocked.Decrement(ref _searching);
            var woken = !GoToSleep(sleeper) || HasWork || sleeper.Signal.Wait(_idleTimeout);
            var wokenByWaker = LeaveSleepers(sleeper);
            if (!wokenByWaker && !woken && !HasWork && TryShrink())
            {
                return; // idle for the idle timeout in an elastic pool above its minimum: this thread is released
            }

            if (!wokenByWaker)
            {
                Interlocked.Increment(ref _searching); // a waker already counted this worker as searching
            }
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

    /// <summary>Wakes the most recently idle sleeping worker; false when none sleeps.</summary>
    private bool WakeOne()
    {
        if (Volatile.Read(ref _idle) == 0)
        {
            return false; // the fast path of a busy pool: no lock
        }

        lock (_sleepersLock)
        {
            if (_sleepers.Last is not { } last)
            {
                return false;
            }

            Wake(last);
            return true;
        }
    }

    /// <summary>
    /// Takes a sleeper off the list, counts it as searching and signals it; under <see cref="_sleepersLock"/>. Counting
    /// it before it runs keeps the next enqueues (a poll loop starting a batch of runs) from waking a worker each while
    /// this one is still waking up: for short steps (an async step's start) one woken worker takes them one after the
    /// other, and the worker that takes an item while more are queued wakes the next, so blocking steps still fan out.
    /// </summary>
    private void Wake(LinkedListNode<Sleeper> node)
    {
        Debug.Assert(_sleepersLock.IsHeldByCurrentThread, "the sleepers' list is guarded by its lock");
        _sleepers.Remove(node);
        Interlocked.Decrement(ref _idle);
        Interlocked.Increment(ref _searching);

        // Signalled under the lock, so a sleeper that finds itself off the list knows its signal is already set.
        node.Value.Signal.Set();
    }

    /// <summary>Puts this worker on the sleepers' list; false when the pool is stopping (then it must not sleep).</summary>
    private bool GoToSleep(Sleeper sleeper)
    {
        lock (_sleepersLock)
        {
            if (_stopping)
            {
                return false;
            }

            _sleepers.AddLast(sleeper.Node);

            // Interlocked: a full fence between this announcement and the worker's next look at the queues (the
            // enqueue side has its own fence between the enqueue and reading the counts).
            Interlocked.Increment(ref _idle);
            return true;
        }
    }

    /// <summary>
    /// Takes this worker off the sleepers' list after it found work, timed out or was woken. True when a waker took it
    /// off first: that waker counted it as searching and counts on it to look for work, so the wake-up is consumed and
    /// honoured, never lost.
    /// </summary>
    private bool LeaveSleepers(Sleeper sleeper)
    {
        lock (_sleepersLock)
        {
            if (sleeper.Node.List is not null)
            {
                _sleepers.Remove(sleeper.Node);
                Interlocked.Decrement(ref _idle);
                return false;
            }
        }

        // Off the list: either this worker never slept (stopping) or a waker signalled it (under the lock just taken, so
        // the signal is set by now). Consume that signal, if any, so the next sleep does not return at once.
        var signalled = sleeper.Signal.IsSet;
        sleeper.Signal.Reset();
        return signalled;
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

    /// <summary>A worker's own wake-up signal and its place on the pool's list of sleepers.</summary>
    private sealed class Sleeper : IDisposable
    {
        public Sleeper() => Node = new LinkedListNode<Sleeper>(this);

        public LinkedListNode<Sleeper> Node { get; }

        // SpinCount 0: the wait blocks at once. SemaphoreSlim (and a default ManualResetEventSlim) spin and yield
        // before blocking, which on a worker that just ran a short step cost more CPU than the step itself; the
        // pool's own spin (SpinForWork) decides whether spinning pays.
        public ManualResetEventSlim Signal { get; } = new(initialState: false, spinCount: 0);

        public void Dispose() => Signal.Dispose();
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
