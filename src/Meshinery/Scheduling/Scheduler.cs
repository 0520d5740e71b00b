using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// Puts the engine's parts together and owns their threads: the worker pools, the run loop and the poll loop. Each
/// part receives only the collaborators it uses (the <see cref="EngineEnvironment"/>, the <see cref="RunQueue"/>, the
/// <see cref="InFlightLimits"/>, the <see cref="FailurePolicy"/>, the run starter and finisher), never this object.
/// </summary>
internal sealed class Scheduler : IDisposable
{
    private readonly CancellationTokenSource _runsCancellation = new();
    private readonly List<WorkerPool> _pools = [];
    private readonly InFlightLimits _limits;

    public Scheduler(
        IReadOnlyList<TaskDefinition> definitions,
        MeshineryOptions options,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        MeshineryDiagnostics diagnostics,
        Action<Exception> onFatalError,
        Action onStopRequested)
    {
        Environment = new EngineEnvironment(options, timeProvider, diagnostics, loggerFactory, _runsCancellation.Token);
        var failures = new FailurePolicy(Environment);
        SharedWorkers = new WorkerPool("worker", options.WorkerThreads);
        _pools.Add(SharedWorkers);
        var pollSignal = new LoopSignal();
        Tasks = [.. definitions.Select(d => CreateRuntime(d, failures, pollSignal))];

        var ready = new RunQueue();
        _limits = new InFlightLimits(options.MaxInFlight, pollSignal);
        var runs = new RunPool(Environment, ready);
        diagnostics.ObserveWorkerPools(() => _pools.Select(p => (p.Name, p.Size)));
        RunLoop = new RunLoop(Environment, ready, failures, new RunFinisher(Environment, runs, _limits), onFatalError);
        Starter = new RunStarter(Environment, runs, _limits, ready);
        PollLoop = new PollLoop(Environment, Tasks, Starter, _limits, pollSignal, onStopRequested, onFatalError);
    }

    public EngineEnvironment Environment { get; }

    public ILogger Logger => Environment.Logger;

    public IReadOnlyList<TaskRuntime> Tasks { get; }

    public WorkerPool SharedWorkers { get; }

    public RunLoop RunLoop { get; }

    public PollLoop PollLoop { get; }

    /// <summary>Starts runs (the poll loop, and <see cref="MeshineryEngine.InjectAsync{T}"/>).</summary>
    public RunStarter Starter { get; }

    public int InFlight => _limits.InFlight;

    public void Start()
    {
        foreach (var pool in _pools)
        {
            pool.Start();
        }

        RunLoop.Start();
        PollLoop.Start();
    }

    /// <summary>A task that completes the next time nothing is in flight.</summary>
    public Task WhenDrained() => _limits.WhenDrained();

    /// <summary>Cancels every run's token; runs then end as abandoned.</summary>
    public void CancelRuns()
    {
        _runsCancellation.Cancel();
        RunLoop.Wake();
    }

    public void StopLoopsAndWorkers()
    {
        PollLoop.Stop();
        RunLoop.Stop();
        foreach (var pool in _pools)
        {
            pool.Stop();
        }
    }

    public void Dispose()
    {
        PollLoop.Dispose();
        RunLoop.Dispose();
        foreach (var pool in _pools)
        {
            pool.Dispose();
        }

        foreach (var task in Tasks)
        {
            task.Budget.Dispose();
            task.StepRate?.Dispose();
        }

        _runsCancellation.Dispose();
    }

    private TaskRuntime CreateRuntime(TaskDefinition definition, FailurePolicy failures, LoopSignal pollSignal)
    {
        var workers = SharedWorkers;
        WorkerPool? reserved = null;
        if (definition.WorkerThreads is { } threads)
        {
            // Reserved workers (carpool) are taken out of the task's own threads: validated to leave at least one.
            workers = new WorkerPool(
                definition.Name,
                threads - definition.ReservedWorkers,
                definition.MaxWorkerThreads - definition.ReservedWorkers,
                definition.WorkerIdleTimeout);
            _pools.Add(workers);
            if (definition.ReservedWorkers > 0)
            {
                reserved = new WorkerPool(definition.Name + "-reserved", definition.ReservedWorkers);
                _pools.Add(reserved);
            }
        }

        return new TaskRuntime(definition, workers, reserved, failures, PollBudget.For(definition, Environment.TimeProvider, pollSignal),
            StepRateLimiter.For(definition, Environment.TimeProvider));
    }
}
