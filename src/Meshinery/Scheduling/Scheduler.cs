using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// Runs the tasks: owns the poll loop, the run loop and the worker pools, counts what is in flight, and builds each
/// run with its own execution context so that <see cref="TaskRunContext.Current"/>, the log scope and the trace
/// activity travel with it across every thread hop.
/// </summary>
internal sealed class Scheduler : IDisposable
{
    private readonly CancellationTokenSource _runsCancellation = new();
    private readonly Action<Exception> _onFatalError;
    private readonly Action _onStopRequested;
    private readonly ILogger _runLogger;
    private readonly List<WorkerPool> _pools = [];
    private readonly ConcurrentQueue<TaskRun> _runPool = new();
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRunId;
    private int _inFlight;
    private int _globalRefillThreshold;

    public Scheduler(
        IReadOnlyList<TaskDefinition> definitions,
        MeshineryOptions options,
        ILoggerFactory loggerFactory,
        TimeProvider timeProvider,
        MeshineryDiagnostics diagnostics,
        Action<Exception> onFatalError,
        Action onStopRequested)
    {
        Options = options;
        TimeProvider = timeProvider;
        Diagnostics = diagnostics;
        Logger = loggerFactory.CreateLogger("Meshinery");
        _runLogger = loggerFactory.CreateLogger("Meshinery.Run");
        _onFatalError = onFatalError;
        _onStopRequested = onStopRequested;
        _globalRefillThreshold = Math.Max(1, options.MaxInFlight / 16);
        SharedWorkers = new WorkerPool("worker", options.WorkerThreads);
        _pools.Add(SharedWorkers);
        Tasks = [.. definitions.Select(CreateRuntime)];
        RunsCancellation = _runsCancellation.Token;
        RunLoop = new RunLoop(this);
        PollLoop = new PollLoop(this);
    }

    public MeshineryOptions Options { get; }

    public TimeProvider TimeProvider { get; }

    public MeshineryDiagnostics Diagnostics { get; }

    public ILogger Logger { get; }

    public IReadOnlyList<TaskRuntime> Tasks { get; }

    public WorkerPool SharedWorkers { get; }

    public RunLoop RunLoop { get; }

    public PollLoop PollLoop { get; }

    /// <summary>Cancelled when stopping gives up on the runs still in flight.</summary>
    public CancellationToken RunsCancellation { get; }

    public int InFlight => Volatile.Read(ref _inFlight);

    public int FreeSlots => Options.MaxInFlight - Volatile.Read(ref _inFlight);

    public void Start()
    {
        foreach (var pool in _pools)
        {
            pool.Start();
        }

        RunLoop.Start();
        PollLoop.Start();
    }

    /// <summary>Starts a run for one input item (poll loop thread, or the caller of an inject).</summary>
    public void StartRun<T>(
        TaskRuntime task,
        T item,
        SourcePosition position,
        IAcknowledger? acknowledger,
        object? raw,
        Exception? readError,
        ActivityContext parentActivity = default,
        TaskCompletionSource<RunResult>? injectCompletion = null)
    {
        var context = new TaskRunContext(task.Definition.Data, Interlocked.Increment(ref _nextRunId), position, raw, RunsCancellation);
        if (!_runPool.TryDequeue(out var run))
        {
            run = new TaskRun(this);
        }

        run.Initialize(task, context, item, acknowledger, injectCompletion);
        if (readError is not null)
        {
            run.Fault(readError, task.ReadStep);
        }

        Interlocked.Increment(ref task.InFlight);
        Interlocked.Increment(ref _inFlight);
        Interlocked.Increment(ref task.Started);
        Diagnostics.RunsStarted.Add(1, task.MetricTag);
        Diagnostics.InFlight.Add(1, task.MetricTag);

        run.ParentActivity = parentActivity;
        BuildExecutionContext(run);
        RunLoop.Enqueue(run);
    }

    /// <summary>
    /// Ends a run (run loop thread): counts it, acknowledges its item, completes an inject, and frees its slot. Counting
    /// comes first, so that whoever reacts to an acknowledgement already sees it in the statistics.
    /// </summary>
    public void FinishRun(TaskRun run)
    {
        var task = run.Task;
        Diagnostics.InFlight.Add(-1, task.MetricTag);
        switch (run.Outcome)
        {
            case RunOutcome.Completed:
                Diagnostics.RunsCompleted.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Completed);
                break;
            case RunOutcome.Dropped:
                Diagnostics.RunsDropped.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Dropped);
                break;
            case RunOutcome.Failed:
                Diagnostics.RunsFailed.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Failed);
                if (run.DeadLettered)
                {
                    Diagnostics.RunsDeadLettered.Add(1, task.MetricTag);
                    Interlocked.Increment(ref task.DeadLettered);
                }

                break;
            default:
                Diagnostics.RunsAbandoned.Add(1, task.MetricTag);
                Interlocked.Increment(ref task.Abandoned);
                break;
        }

        if (run.Activity is { } activity)
        {
            if (run.Outcome == RunOutcome.Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error, run.Failure?.Exception.Message);
            }

            activity.SetTag("meshinery.outcome", run.Outcome.ToString());
            activity.Stop();
        }

        try
        {
            run.Acknowledger?.Acknowledge(run.Position, run.Outcome);
        }
        catch (Exception error)
        {
            Log.AcknowledgeFailed(Logger, error, run.TaskName, run.Position);
        }

        run.InjectCompletion?.TrySetResult(new RunResult(run.Outcome, run.ItemAsObject, run.Failure));
        run.Clear();
        _runPool.Enqueue(run); // bounded by the in-flight limit: a run is only ever rented while a slot is taken

        var taskInFlight = Interlocked.Decrement(ref task.InFlight);
        var inFlight = Interlocked.Decrement(ref _inFlight);

        // Wake the poll loop when a full task or engine has room for a batch again, or when the last run ended
        // (batch mode and stopping wait for that).
        if (taskInFlight == task.Definition.MaxInFlight - task.RefillThreshold ||
            inFlight == Options.MaxInFlight - _globalRefillThreshold ||
            inFlight == 0)
        {
            PollLoop.Wake();
        }

        if (inFlight == 0)
        {
            Volatile.Read(ref _drained).TrySetResult();
        }
    }

    /// <summary>A task that completes the next time nothing is in flight.</summary>
    public Task WhenDrained()
    {
        var drained = Volatile.Read(ref _drained);
        if (drained.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _drained, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), drained);
            drained = Volatile.Read(ref _drained);
        }

        // Runs may have ended between the read above and now.
        if (InFlight == 0)
        {
            drained.TrySetResult();
        }

        return drained.Task;
    }

    /// <summary>Cancels every run's token; runs then end as abandoned.</summary>
    public void CancelRuns()
    {
        _runsCancellation.Cancel();
        RunLoop.Wake();
    }

    /// <summary>Calls the task's error handler for a failed run; runs on a worker thread in the run's context.</summary>
    public void HandleError(TaskRun run)
    {
        var failure = run.Failure!;
        ErrorDecision decision;
        try
        {
            decision = run.Task.Definition.ErrorHandler!(failure);
        }
        catch (Exception error)
        {
            Log.ErrorHandlerFailed(Logger, error, run.TaskName, run.Position);
            decision = ErrorDecision.DeadLetter;
        }

        switch (decision.Kind)
        {
            case ErrorDecisionKind.Drop:
                run.Finish(RunOutcome.Dropped);
                break;
            case ErrorDecisionKind.Continue when IsValidReplacement(run.FailedStep!.OutputType, decision.Replacement):
                run.ContinueAfterFailure(decision.Replacement);
                break;
            case ErrorDecisionKind.Continue:
                Log.ReplacementTypeMismatch(
                    Logger, run.TaskName, run.FailedStep!.Name, decision.Replacement?.GetType().Name ?? "null", run.FailedStep.OutputType.Name);
                run.Phase = RunPhase.DeadLetter;
                break;
            default:
                run.Phase = RunPhase.DeadLetter;
                break;
        }
    }

    public void ReportFatalError(Exception error) => _onFatalError(error);

    public void RequestStop() => _onStopRequested();

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

        _runsCancellation.Dispose();
    }

    private static bool IsValidReplacement(Type type, object? replacement) =>
        replacement is null
            ? !type.IsValueType || Nullable.GetUnderlyingType(type) is not null
            : type.IsInstanceOfType(replacement);

    private TaskRuntime CreateRuntime(TaskDefinition definition)
    {
        var workers = SharedWorkers;
        if (definition.WorkerThreads is { } threads)
        {
            workers = new WorkerPool(definition.Name, threads);
            _pools.Add(workers);
        }

        return new TaskRuntime(definition, workers);
    }

    /// <summary>
    /// Builds the run's execution context: the caller's context (the poll loop's is empty) plus the ambient run
    /// context, the run's log scope and its activity. It is built inside <see cref="ExecutionContext.Run"/>, which
    /// restores the calling thread's context afterwards, so nothing has to be undone by hand.
    /// </summary>
    private static void BuildExecutionContext(TaskRun run)
    {
        // Flow is never suppressed here: the loops start with UnsafeStart and InjectAsync hops off a suppressed flow.
        var baseline = ExecutionContext.Capture() ?? throw new InvalidOperationException("Execution context flow is suppressed.");
        ExecutionContext.Run(baseline, s_buildExecutionContext, run);
    }

    private static readonly ContextCallback s_buildExecutionContext = static state =>
    {
        var run = (TaskRun)state!;
        TaskRunContext.SetCurrent(run.Context);
        _ = run.Scheduler._runLogger.BeginScope(run.Context); // ends with the context: nothing else holds the scope
        run.Activity = MeshineryDiagnostics.StartRunActivity(run, run.ParentActivity);
        run.ExecutionContext = ExecutionContext.Capture();
    };
}
