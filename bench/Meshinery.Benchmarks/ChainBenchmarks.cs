using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Benchmarks;

/// <summary>
/// Runs per second through a task's chain of sync steps on an in-memory source, with the real engine (poll loop, run
/// loop, worker pool, execution context per run). One operation is one run: from the poll that reads the item to its
/// acknowledgement. The source hands out a shared item and counts acknowledgements, so it allocates nothing itself.
/// </summary>
[Config(typeof(BenchConfig))]
public class ChainBenchmarks
{
    private const int RunsPerInvoke = 200_000;
    private ServiceProvider? _services;
    private MeshineryEngine? _engine;
    private GeneratedInput? _input;

    /// <summary>Steps in the chain.</summary>
    [Params(1, 3)]
    public int Steps { get; set; }

    /// <summary>Threads of the worker pool (the library's default is 64).</summary>
    [Params(2, 64)]
    public int Workers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = new GeneratedInput();
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .Configure(options => options.WorkerThreads = Workers)
            .AddTask<Item>("chain", task =>
            {
                var chain = task.ReadFrom(_input).WithMaxInFlight(1_024).Process(static item => item, "step-1");
                for (var step = 2; step <= Steps; step++)
                {
                    chain = chain.Process(static item => item, $"step-{step}");
                }
            }));
        _services = services.BuildServiceProvider();
        _engine = _services.GetRequiredService<MeshineryEngine>();
        _engine.StartAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Console.WriteLine(FormattableString.Invariant($"// stalls (runs left in flight with the engine asleep): {Stalls}"));
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _services?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>
    /// Batches in which a run stayed in flight for a second with nothing else to do, and the engine had to be woken by
    /// hand (see <see cref="Runs"/>). Printed when the benchmark ends; it should be 0.
    /// </summary>
    public static int Stalls { get; private set; }

    [Benchmark(OperationsPerInvoke = RunsPerInvoke)]
    public void Runs()
    {
        if (_input!.RunBatch(RunsPerInvoke))
        {
            return;
        }

        // A run can be left in a loop's queue with the loop asleep (a lost wake-up, reported to the engine's owners):
        // nothing else would ever wake it here, as no new item arrives. Count it, say where it was, wake the loops, go on.
        Stalls++;
        Console.WriteLine(Describe($"stall {Stalls}: no run acknowledged for a second"));
        WakeLoops(_engine!);
        if (!_input.Wait(TimeSpan.FromMinutes(1)))
        {
            throw new TimeoutException(Describe("The engine did not finish the batch within a minute"));
        }
    }

    /// <summary>
    /// Outside BenchmarkDotNet (<c>--soak STEPS WORKERS BATCHES</c>): runs batches back to back and reports the first one
    /// that stalls (no acknowledgement for a second), with the engine's state, instead of a timing.
    /// </summary>
    public static int Soak(int steps, int workers, int batches)
    {
        var benchmark = new ChainBenchmarks { Steps = steps, Workers = workers };
        benchmark.Setup();
        try
        {
            for (var batch = 1; batch <= batches; batch++)
            {
                // BenchmarkDotNet collects garbage between iterations; doing the same changes the timing of the loops.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                if (!benchmark._input!.RunBatch(RunsPerInvoke))
                {
                    Console.Error.WriteLine(benchmark.Describe($"batch {batch} of {RunsPerInvoke:N0} runs: no acknowledgement for a second"));
                    return 1;
                }

                Console.Error.WriteLine(FormattableString.Invariant(
                    $"batch {batch}: {RunsPerInvoke / System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds:N0} runs/s"));
            }

            return 0;
        }
        finally
        {
            benchmark.Cleanup();
        }
    }

    private string Describe(string problem)
    {
        var stats = _engine!.GetStatistics("chain");
        return FormattableString.Invariant(
            $"{problem} (steps {Steps}, workers {Workers}): engine in flight {_engine.InFlight}, started {stats.Started}, completed {stats.Completed}, failed {stats.Failed}; source: {_input!.Describe()}; {EngineState(_engine)}");
    }

    private static void WakeLoops(MeshineryEngine engine)
    {
        if (SchedulerOf(engine) is { } scheduler)
        {
            scheduler.RunLoop.Wake();
            scheduler.PollLoop.Wake();
        }
    }

    /// <summary>
    /// The engine's scheduler (its one private field this project reads by reflection; the scheduler's parts are
    /// internal, visible to this project, and read as typed members, so a refactor breaks the build, not the output).
    /// </summary>
    private static Scheduler? SchedulerOf(MeshineryEngine engine) =>
        typeof(MeshineryEngine).GetField("_scheduler", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)?.GetValue(engine) as Scheduler;

    /// <summary>
    /// Where a stuck run can be waiting (diagnosis of a hang only). Members private to their class are read by
    /// reflection; one that no longer exists prints as "(no field X)" rather than a silent '?'.
    /// </summary>
    private static string EngineState(MeshineryEngine engine)
    {
        const System.Reflection.BindingFlags Private = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic;
        static object? Field(object target, string name) =>
            target.GetType().GetField(name, Private) is { } field ? field.GetValue(target) : $"(no field {target.GetType().Name}.{name})";
        static object? Count(object? collection) => collection switch
        {
            System.Collections.ICollection c => c.Count,
            PriorityQueue<TaskRun, long> q => q.Count,
            _ => collection, // the "(no field ...)" text
        };

        if (SchedulerOf(engine) is not { } scheduler)
        {
            return "engine state: (no field MeshineryEngine._scheduler)";
        }

        var workers = scheduler.SharedWorkers;
        var runLoop = scheduler.RunLoop;

        // RunLoop._ready is the RunQueue (whose signal is the run loop's); the runs wait in the queue's own _ready.
        var inbox = Field(runLoop, "_ready") as RunQueue;
        var ready = inbox is null ? "(no RunQueue RunLoop._ready)" : Count(Field(inbox, "_ready"));
        var runSignal = inbox is null ? "?" : Field(inbox.Signal, "_pending");
        var delayed = Count(Field(runLoop, "_delayed"));
        var pollSignal = typeof(DedicatedLoop).GetProperty("Signal", Private)?.GetValue(scheduler.PollLoop) is LoopSignal signal
            ? Field(signal, "_pending")
            : "(no property DedicatedLoop.Signal)";
        return string.Join(
            "; ",
            FormattableString.Invariant(
                $"worker pool: size {workers.Size}, sleeping {workers.Sleeping}, queued {Count(Field(workers, "_queue"))} + resumed {Count(Field(workers, "_resumed"))} + high {Count(Field(workers, "_high"))}, searching {Field(workers, "_searching")}"),
            FormattableString.Invariant($"run loop: ready {ready}, delayed {delayed}, signal pending {runSignal}"),
            FormattableString.Invariant($"poll loop: signal pending {pollSignal}"));
    }

    /// <summary>The item every run carries (shared: the source allocates nothing per run).</summary>
    public sealed class Item
    {
        public static readonly Item Shared = new();
    }

    /// <summary>An input that hands out a given number of items and signals when all of them are acknowledged.</summary>
    private sealed class GeneratedInput() : InputSource<Item>("generated"), IAcknowledger
    {
        private TaskCompletionSource _done = new();
        private SourceContext? _context;
        private long _remaining;
        private long _unacknowledged;
        private long _offset;

        public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
        {
            _context = context;
            return default;
        }

        /// <summary>Hands out a batch and waits for it; false when no run was acknowledged for a second (a stall).</summary>
        public bool RunBatch(int count)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _done, done);
            Interlocked.Exchange(ref _unacknowledged, count);
            Interlocked.Exchange(ref _remaining, count);
            _context!.NotifyItemsAvailable();
            var last = long.MaxValue;
            while (!done.Task.Wait(TimeSpan.FromSeconds(1)))
            {
                var now = Interlocked.Read(ref _unacknowledged);
                if (now == last)
                {
                    return false;
                }

                last = now;
            }

            return true;
        }

        public bool Wait(TimeSpan timeout) => Volatile.Read(ref _done).Task.Wait(timeout);

        public override int Poll(Span<SourceItem<Item>> buffer)
        {
            var available = (int)Math.Min(buffer.Length, Interlocked.Read(ref _remaining));
            for (var i = 0; i < available; i++)
            {
                buffer[i] = new SourceItem<Item>(Item.Shared, new SourcePosition("generated", 0, _offset++), this);
            }

            Interlocked.Add(ref _remaining, -available);
            return available;
        }

        public string Describe() => FormattableString.Invariant(
            $"{Interlocked.Read(ref _remaining)} not yet polled, {Interlocked.Read(ref _unacknowledged)} not yet acknowledged");

        public void Acknowledge(SourcePosition position, RunOutcome outcome)
        {
            if (Interlocked.Decrement(ref _unacknowledged) == 0)
            {
                Volatile.Read(ref _done).TrySetResult();
            }
        }
    }
}
