using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Benchmarks;

/// <summary>
/// The cost of carrying a run's ambient state (TaskRunContext, TaskData, the log scope) across threads with
/// <see cref="AsyncLocal{T}"/>: each step of a run executes inside <c>ExecutionContext.Run(run.ExecutionContext, ...)</c>,
/// and each run builds its context once. The captured context is a real one, taken inside a step of a running engine.
/// </summary>
[Config(typeof(BenchConfig))]
public class ContextHopBenchmarks
{
    private static readonly ContextCallback s_readContext = static state => ((Holder)state!).Seen = TaskRunContext.Current;
    private static readonly AsyncLocal<object?> s_ambient = new();
    private readonly Holder _holder = new();
    private ExecutionContext _runContext = null!;
    private ExecutionContext _baseline = null!;

    [GlobalSetup]
    public void Setup()
    {
        // Capture the execution context a step really runs in.
        var input = new InMemoryInput<int>("one", capacity: 1);
        var captured = new TaskCompletionSource<ExecutionContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("capture", task => task
            .ReadFrom(input)
            .Do(_ => captured.TrySetResult(ExecutionContext.Capture()!))));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        engine.StartAsync().GetAwaiter().GetResult();
        input.TryWrite(1);
        _runContext = captured.Task.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        provider.DisposeAsync().AsTask().GetAwaiter().GetResult();

        // An empty context, like the poll loop's.
        _baseline = ExecutionContext.Capture()!;
    }

    /// <summary>Reading the ambient context directly (no hop): the floor.</summary>
    [Benchmark(Baseline = true)]
    public object? DirectCall()
    {
        s_readContext(_holder);
        return _holder.Seen;
    }

    /// <summary>One hop: run a callback in the run's captured context and read <c>TaskRunContext.Current</c> there.</summary>
    [Benchmark]
    public object? HopIntoRunContext()
    {
        ExecutionContext.Run(_runContext, s_readContext, _holder);
        return _holder.Seen;
    }

    /// <summary>What each run pays once: set an AsyncLocal on a baseline context and capture the result.</summary>
    [Benchmark]
    public ExecutionContext BuildRunContext()
    {
        ExecutionContext.Run(_baseline, static state =>
        {
            var holder = (Holder)state!;
            s_ambient.Value = holder;
            holder.Built = ExecutionContext.Capture();
        }, _holder);
        return _holder.Built!;
    }

    private sealed class Holder
    {
        public object? Seen { get; set; }

        public ExecutionContext? Built { get; set; }
    }
}
