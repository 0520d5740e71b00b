using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// Runs the configured tasks. Registered by <see cref="MeshineryServiceCollectionExtensions.AddMeshinery"/> and
/// started and stopped by its hosted service; resolve it to inject items, read statistics or await
/// <see cref="Completion"/>.
/// </summary>
/// <remarks>
/// Threads: one poll loop and one run loop (dedicated threads), plus the worker pools on which steps start. Stopping
/// stops polling, waits up to <see cref="MeshineryOptions.DrainTimeout"/> for in-flight runs, then cancels the rest
/// and waits up to <see cref="MeshineryOptions.CancellationGracePeriod"/>, and finally stops the sources (Kafka
/// commits here) and sinks. The engine never disposes sources, sinks or services it was given.
/// </remarks>
public sealed class MeshineryEngine : IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _timeProvider;
    private readonly MeshineryOptions _options;
    private readonly MeshineryDiagnostics _diagnostics;
    private readonly Scheduler _scheduler;
    private readonly Dictionary<string, TaskRuntime> _tasksByName;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lifecycle = new();
    private Task? _start;
    private Task? _stop;
    private Exception? _fatalError;

    internal MeshineryEngine(
        IEnumerable<TaskRegistration> registrations,
        MeshineryOptions options,
        IServiceProvider services,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        IMeterFactory? meterFactory)
    {
        _options = options;
        _services = services;
        _loggerFactory = loggerFactory;
        _timeProvider = timeProvider;
        var definitions = BuildTasks(registrations, services);
        _diagnostics = new MeshineryDiagnostics(meterFactory);
        _scheduler = new Scheduler(definitions, options, loggerFactory, timeProvider, _diagnostics, ReportFatalError, StopByItself);
        _tasksByName = _scheduler.Tasks.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>The names of the configured tasks.</summary>
    public IReadOnlyCollection<string> TaskNames => _tasksByName.Keys;

    /// <summary>Runs in flight across all tasks.</summary>
    public int InFlight => _scheduler.InFlight;

    /// <summary>
    /// Completes when the engine has stopped: after <see cref="StopAsync"/>, after batch mode drained every input,
    /// or, faulted with the error, after a fatal error.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>Where the engine is in its life: not started, starting, running, stopping, stopped or faulted.</summary>
    public MeshineryEngineState State
    {
        get
        {
            lock (_lifecycle)
            {
                return _fatalError is not null || _start is { IsFaulted: true } or { IsCanceled: true } ? MeshineryEngineState.Faulted
                    : _completion.Task.IsCompleted ? MeshineryEngineState.Stopped
                    : _stop is not null ? MeshineryEngineState.Stopping
                    : _start is null ? MeshineryEngineState.NotStarted
                    : _start.IsCompleted ? MeshineryEngineState.Running
                    : MeshineryEngineState.Starting;
            }
        }
    }

    /// <summary>The validated task definitions, for the health check and the topology description (<see cref="TaskDefinitionReader"/>).</summary>
    internal IEnumerable<TaskDefinition> Definitions => _scheduler.Tasks.Select(t => t.Definition);

    /// <summary>A task's runtime state, for tests that must see inside it (runs waiting for a step permit).</summary>
    internal TaskRuntime Runtime(string taskName) => _tasksByName[taskName];

    /// <summary>Whether the engine stopped because of a fatal error or, in batch mode, by itself, rather than by <see cref="StopAsync"/> from outside.</summary>
    internal bool StoppedByItself { get; private set; }

    /// <summary>Starts the sources, sinks, worker pools and both loops. Returns once the loops run.</summary>
    /// <param name="cancellationToken">Aborts the start.</param>
    /// <returns>A task that completes when the engine runs.</returns>
    /// <exception cref="InvalidOperationException">The engine was started or stopped before.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            // A stop before any start completes the engine for good: starting it then would run loops nothing stops.
            if (_start is not null || _stop is not null)
            {
                throw new InvalidOperationException("The Meshinery engine can be started only once, and not after it was stopped.");
            }

            _start = StartCoreAsync(cancellationToken);
            return _start;
        }
    }

    /// <summary>
    /// Stops the engine: stops polling, drains in-flight runs (cancelling them after the drain timeout), then stops the
    /// sources and sinks. Safe to call several times and concurrently; every call returns the same stop.
    /// </summary>
    /// <param name="cancellationToken">Shortens the drain: when cancelled, in-flight runs are cancelled at once.</param>
    /// <returns>A task that completes when the engine has stopped.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_lifecycle)
        {
            _stop ??= _start is null ? CompleteWithoutStart() : StopCoreAsync(cancellationToken);
            return _stop;
        }
    }

    /// <summary>
    /// Runs one item through a task directly, with the same steps, outputs, retries and error path as items read from
    /// its inputs (for tests and replays). The engine must be running. The run counts against the in-flight limits but
    /// never waits for a free slot.
    /// </summary>
    /// <typeparam name="T">The item type; it must be the task's input type (or derive from it).</typeparam>
    /// <param name="taskName">The task.</param>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Stops waiting for the result (the run itself goes on).</param>
    /// <returns>How the run ended.</returns>
    public async ValueTask<RunResult> InjectAsync<T>(string taskName, T item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taskName);
        if (!_tasksByName.TryGetValue(taskName, out var task))
        {
            throw new ArgumentException($"There is no task named '{taskName}'.", nameof(taskName));
        }

        if (!task.Definition.InputType.IsAssignableFrom(typeof(T)))
        {
            throw new ArgumentException(
                $"Task '{taskName}' reads {task.Definition.InputType.Name} items; {typeof(T).Name} cannot be injected.", nameof(item));
        }

        if (_start is not { IsCompletedSuccessfully: true } || _stop is not null)
        {
            throw new InvalidOperationException("The Meshinery engine is not running: items can be injected only between StartAsync and StopAsync.");
        }

        if (ExecutionContext.IsFlowSuppressed())
        {
            // The run's context is built from the caller's; hop to a thread whose flow is not suppressed.
            return await Task.Run(() => InjectAsync(taskName, item, cancellationToken).AsTask(), cancellationToken).ConfigureAwait(false);
        }

        var completion = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _scheduler.Starter.StartRun(task, new SourceItem<T>(item, SourcePosition.Injected), injectCompletion: completion);
        return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns a snapshot of a task's counters.</summary>
    /// <param name="taskName">The task.</param>
    /// <returns>The counters.</returns>
    public TaskStatistics GetStatistics(string taskName) =>
        _tasksByName.TryGetValue(taskName, out var task)
            ? task.GetStatistics()
            : throw new ArgumentException($"There is no task named '{taskName}'.", nameof(taskName));

    /// <summary>Returns a snapshot of every task's counters.</summary>
    /// <returns>The counters, in the order the tasks were added.</returns>
    public IReadOnlyList<TaskStatistics> GetStatistics() => [.. _scheduler.Tasks.Select(t => t.GetStatistics())];

    /// <summary>Stops the engine (see <see cref="StopAsync"/>) and releases its threads and meter.</summary>
    /// <returns>A task that completes when the engine is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        catch (Exception) when (_fatalError is not null)
        {
            // The fatal error was logged and is on Completion; disposing must not throw it again.
        }

        _scheduler.Dispose();
        _diagnostics.Dispose();
    }

    private static List<TaskDefinition> BuildTasks(IEnumerable<TaskRegistration> registrations, IServiceProvider services)
    {
        var definitions = new List<TaskDefinition>();
        var problems = new List<ConfigurationProblem>();
        foreach (var registration in registrations)
        {
            if (registration.Build(services, problems) is { } definition)
            {
                definitions.Add(definition);
            }
        }

        TaskSettingsSection.FindUnknownTasks(services, [.. registrations.Select(r => r.Name)], problems);
        foreach (var name in definitions.GroupBy(d => d.Name).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            problems.Add(new ConfigurationProblem(name, "Name", "more than one task has this name; task names must be unique"));
        }

        var sharedSources = definitions
            .SelectMany(d => d.Inputs.Select(i => (d.Name, i.Source)))
            .GroupBy(x => x.Source)
            .Where(g => g.Select(x => x.Name).Distinct().Count() > 1);
        foreach (var shared in sharedSources)
        {
            problems.Add(new ConfigurationProblem(
                shared.First().Name, "ReadFrom", $"input '{shared.Key.Name}' is also read by task(s) {string.Join(", ", shared.Skip(1).Select(x => $"'{x.Name}'"))}; an input source belongs to one task"));
        }

        problems.AddRange(definitions.SelectMany(d => d.Inputs.SelectMany(i => i.Source.Validate(services).Select(p => new ConfigurationProblem(d.Name, p.Key, p.Value)))));
        problems.AddRange(SinksOf(definitions).SelectMany(x => x.Sink.Validate(services).Select(p => new ConfigurationProblem(x.TaskName, p.Key, p.Value))));
        return problems.Count > 0 ? throw new MeshineryConfigurationException(problems) : definitions;
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        foreach (var task in _scheduler.Tasks)
        {
            var context = CreateContext(task.Name);
            foreach (var input in task.Definition.Inputs)
            {
                await input.Source.StartAsync(context, cancellationToken).ConfigureAwait(false);
            }
        }

        foreach (var (sink, taskName) in DistinctSinks())
        {
            await sink.StartAsync(CreateContext(taskName), cancellationToken).ConfigureAwait(false);
        }

        Log.EngineStarted(_scheduler.Logger, _scheduler.Tasks.Count, _options.WorkerThreads);
        _scheduler.Start();
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _start!.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A failed start still stops what did start; the caller of StartAsync saw the error.
        }

        try
        {
            Log.EngineStopping(_scheduler.Logger, _scheduler.InFlight);
            _scheduler.PollLoop.Stop();
            await IgnoreFailureAsync(_scheduler.PollLoop.Exited).ConfigureAwait(false);

            if (!await WaitAsync(_scheduler.WhenDrained(), _options.DrainTimeout, cancellationToken).ConfigureAwait(false))
            {
                Log.DrainTimedOut(_scheduler.Logger, _scheduler.InFlight, _options.DrainTimeout);
                _scheduler.CancelRuns();
                if (!await WaitAsync(_scheduler.WhenDrained(), _options.CancellationGracePeriod, CancellationToken.None).ConfigureAwait(false))
                {
                    Log.RunsStuck(_scheduler.Logger, _scheduler.InFlight, _options.CancellationGracePeriod);
                }
            }

            _scheduler.StopLoopsAndWorkers();
            await IgnoreFailureAsync(_scheduler.RunLoop.Exited).ConfigureAwait(false);
            await RunScopeDisposals.WaitAsync(Definitions, _options.CancellationGracePeriod, _timeProvider, _scheduler.Logger).ConfigureAwait(false);

            // Not the caller's token: a hurried host must still get the sources' final commits and the sinks' flushes,
            // which are bounded by the clients' own timeouts.
            foreach (var input in _scheduler.Tasks.SelectMany(t => t.Definition.Inputs))
            {
                await StopQuietlyAsync(input.Source.Name, ct => input.Source.StopAsync(ct), CancellationToken.None).ConfigureAwait(false);
            }

            foreach (var (sink, _) in DistinctSinks())
            {
                await StopQuietlyAsync(sink.Name, ct => sink.StopAsync(ct), CancellationToken.None).ConfigureAwait(false);
            }

            Log.EngineStopped(_scheduler.Logger);
        }
        finally
        {
            // Whatever happened above, whoever awaits Completion must learn that the engine stopped.
            if (_fatalError is { } fatal)
            {
                _completion.TrySetException(fatal);
            }
            else
            {
                _completion.TrySetResult();
            }
        }
    }

    /// <summary>Awaits a loop's exit; a loop that crashed has reported its error as fatal already.</summary>
    private static async Task IgnoreFailureAsync(Task exited)
    {
        try
        {
            await exited.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Reported through ReportFatalError by the loop itself.
        }
    }

    private Task CompleteWithoutStart()
    {
        _completion.TrySetResult();
        return Task.CompletedTask;
    }

    private async Task StopQuietlyAsync(string name, Func<CancellationToken, ValueTask> stop, CancellationToken cancellationToken)
    {
        try
        {
            await stop(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            Log.StopFailed(_scheduler.Logger, error, name);
        }
    }

    private async Task<bool> WaitAsync(Task task, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(timeout, _timeProvider, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private IEnumerable<(OutputSink Sink, string TaskName)> DistinctSinks() => SinksOf(_scheduler.Tasks.Select(t => t.Definition));

    /// <summary>Every output and dead-letter sink of the tasks, once each, with the first task that uses it.</summary>
    private static IEnumerable<(OutputSink Sink, string TaskName)> SinksOf(IEnumerable<TaskDefinition> definitions) =>
        definitions
            .SelectMany(t => t.Root.AllSteps()
                .Select(s => s switch
                {
                    IWriteStep write => write.Sink,
                    _ => null,
                })
                .Append(t.DeadLetterSink)
                .OfType<OutputSink>()
                .Select(sink => (Sink: sink, TaskName: t.Name)))
            .DistinctBy(x => x.Sink);

    private SourceContext CreateContext(string taskName) =>
        new(taskName, _services, _loggerFactory, _timeProvider, _scheduler.PollLoop.Wake, ReportFatalError);

    private void StopByItself()
    {
        StoppedByItself = true;
        _ = StopAsync();
    }

    private void ReportFatalError(Exception error)
    {
        if (Interlocked.CompareExchange(ref _fatalError, error, null) is not null)
        {
            return;
        }

        Log.FatalError(_scheduler.Logger, error);
        StopByItself();
    }
}
