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
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _services?.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = RunsPerInvoke)]
    public void Runs()
    {
        if (!_input!.RunBatch(RunsPerInvoke, TimeSpan.FromMinutes(1)))
        {
            throw new TimeoutException("The engine did not finish the batch within a minute.");
        }
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

        public bool RunBatch(int count, TimeSpan timeout)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _done, done);
            Interlocked.Exchange(ref _unacknowledged, count);
            Interlocked.Exchange(ref _remaining, count);
            _context!.NotifyItemsAvailable();
            return done.Task.Wait(timeout);
        }

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

        public void Acknowledge(SourcePosition position, RunOutcome outcome)
        {
            if (Interlocked.Decrement(ref _unacknowledged) == 0)
            {
                Volatile.Read(ref _done).TrySetResult();
            }
        }
    }
}
