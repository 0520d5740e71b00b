using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Meshinery;

/// <summary>What the run loop does next with a run.</summary>
internal enum RunPhase
{
    /// <summary>Run the step at <see cref="TaskRun.StepIndex"/>, or finish when the pipeline is done.</summary>
    Step,

    /// <summary>A step (or the read) failed: the <see cref="FailurePolicy"/> decides.</summary>
    Faulted,

    /// <summary>Run the recovery pseudo-step on a worker: the error handler or the dead-letter write.</summary>
    Recovery,

    /// <summary>Finished with <see cref="TaskRun.Outcome"/>: acknowledge.</summary>
    Done,
}

/// <summary>
/// One input item on its way through a task: the engine's side of a run (the user's side is its
/// <see cref="TaskRunContext"/>). The run loop owns it between steps; a worker owns it while steps execute; the
/// continuation of a pending step owns it until it hands it back. It is never in two places at once, so its fields
/// need no locks (debug builds assert the hand-overs: <see cref="TakeOver"/>, <see cref="HandOff"/>). Runs are pooled:
/// after the acknowledgement nothing may keep a reference to one.
/// </summary>
internal sealed class TaskRun : IWorkItem
{
    private static readonly ContextCallback s_executeStep = static state => ((TaskRun)state!).RunStep();
    private readonly Action _onPendingCompleted;
    private readonly MeshineryDiagnostics _diagnostics;
    private readonly RunQueue _runLoop;
    private Task? _pending;

    // AdvanceWhenDone's work, awaited as the ValueTask it is: AsTask would allocate a wrapper per write whose task is
    // backed by a pooled source (a Kafka produce).
    private ValueTask _pendingWork;
    private bool _awaitsWork;
    private Step? _recoveryStep;
    private EmittedItems? _emitted;
    private long _stepStartedAt;
    private int _finished;
#if DEBUG
    private int _owner;
#endif

    public TaskRun(EngineEnvironment environment, RunQueue runLoop)
    {
        Environment = environment;
        _diagnostics = environment.Diagnostics;
        _runLoop = runLoop;
        _onPendingCompleted = OnPendingCompleted;
    }

    public EngineEnvironment Environment { get; }

    public TaskRuntime Task { get; private set; } = null!;

    public TaskRunContext Context { get; private set; } = null!;

    public Pipeline Pipeline { get; private set; } = null!;

    public int StepIndex { get; private set; }

    public RunPhase Phase { get; private set; }

    public RunOutcome Outcome { get; private set; }

    /// <summary>Whether the failure was written to the dead-letter output (rather than only logged).</summary>
    public bool DeadLettered { get; set; }

    /// <summary>The item; a value type is kept in a <see cref="StrongBox{T}"/> that steps reuse instead of boxing anew.</summary>
    private object? Item { get; set; }

    public Exception? Error { get; private set; }

    public Step? FailedStep { get; private set; }

    public ProcessingFailure? Failure { get; set; }

    public IAcknowledger? Acknowledger { get; private set; }

    /// <summary>The source's raw record of the input item (kept by the run's context).</summary>
    public object? SourceRecord => Context.SourceRecord;

    public ExecutionContext? ExecutionContext { get; set; }

    public Activity? Activity { get; set; }

    /// <summary>The trace context the input item carried; only read while the run's context is built.</summary>
    public ActivityContext ParentActivity { get; set; }

    public TaskCompletionSource<RunResult>? InjectCompletion { get; private set; }

    public SourcePosition Position => Context.Position;

    public string TaskName => Task.Name;

    public int Attempt => Context.Attempt;

    public CancellationToken CancellationToken => Context.CancellationToken;

    /// <summary>The step the run executes next: a recovery pseudo-step while it recovers, else the pipeline's.</summary>
    public Step ActiveStep => _recoveryStep ?? Pipeline.Steps[StepIndex];

    public bool IsAtEnd => StepIndex >= Pipeline.Steps.Length;

    /// <summary>Whether the executing step left a pending task (its continuation takes the run on).</summary>
    public bool IsPending => _pending is not null || _awaitsWork;

    /// <summary>The key the task's <see cref="OrderingPolicy"/> keeps the run in order by, or <see langword="null"/>.</summary>
    public object? OrderKey { get; set; }

    /// <summary>Whether the run's steps go ahead of normal ones (see <see cref="PriorityPolicy"/>).</summary>
    public bool IsHighPriority { get; set; }

    /// <summary>Whether the task's <see cref="OrderingPolicy"/> let the run start (run loop thread).</summary>
    public bool IsAdmitted { get; set; }

    /// <summary>Whether the run holds a permit of the task's <see cref="StepRateLimiter"/> for its next step.</summary>
    public bool HasStepPermit { get; set; }

    /// <summary>Whether a worker has executed the run before (resumed runs go ahead of fresh ones).</summary>
    public bool HasStarted { get; private set; }

    /// <summary>The item as a plain object (a boxed copy for value types), for failures and results.</summary>
    public object? ItemAsObject => Item is IStrongBox box ? box.Value : Item;

    public void Initialize<T>(
        TaskRuntime task,
        TaskRunContext context,
        T item,
        IAcknowledger? acknowledger,
        TaskCompletionSource<RunResult>? injectCompletion)
    {
        Task = task;
        Context = context;
        Pipeline = task.Definition.Root;
        StepIndex = 0;
        Phase = RunPhase.Step;
        Outcome = default;
        SetItem(item);
        Acknowledger = acknowledger;
        InjectCompletion = injectCompletion;
        HasStarted = false;
        DeadLettered = false;
        IsAdmitted = false;
        IsHighPriority = false;
        HasStepPermit = false;
        _finished = 0;
    }

    /// <summary>Drops every reference before the run goes back to the pool.</summary>
    public void Clear()
    {
        Task = null!;
        Context = null!;
        Pipeline = null!;
        Item = null;
        Error = null;
        FailedStep = null;
        Failure = null;
        _recoveryStep = null;
        _emitted = null;
        _pending = null;
        _pendingWork = default;
        _awaitsWork = false;
        OrderKey = null;
        Acknowledger = null;
        ExecutionContext = null;
        Activity = null;
        InjectCompletion = null;
    }

    public T GetItem<T>() =>
        typeof(T).IsValueType && Item is StrongBox<T> box ? box.Value! : (T)Item!;

    /// <summary>Passes <paramref name="value"/> on to the next step.</summary>
    public void Continue<T>(T value)
    {
        SetItem(value);
        Advance();
    }

    /// <summary>Passes the item on to the next step unchanged.</summary>
    public void Advance()
    {
        StepIndex++;
        Context.Attempt = 1;
        Phase = RunPhase.Step;
        if (_emitted is not null && IsAtEnd)
        {
            _emitted.Completed++;
            NextEmitted();
        }
    }

    /// <summary>Goes through <paramref name="emitted"/> (a flatMap's items) one after the other, on its path.</summary>
    public void EnterEmitted(EmittedItems emitted)
    {
        emitted.Outer = _emitted;
        _emitted = emitted;
        NextEmitted();
    }

    /// <summary>
    /// Passes the item on unchanged once <paramref name="work"/> (a write, an async side effect) has completed: at once
    /// when it already has, else when the pending task completes (<see cref="Step.CompletePending"/>).
    /// </summary>
    public void AdvanceWhenDone(ValueTask work)
    {
        if (work.IsCompletedSuccessfully)
        {
            work.GetAwaiter().GetResult(); // a ValueTask backed by a pooled source is recycled only by GetResult
            Advance();
        }
        else
        {
            _pendingWork = work;
            _awaitsWork = true; // completed by OnPendingCompleted: the result, then Advance
        }
    }

    /// <summary>Resumes after the failed step with <paramref name="value"/> as its result (an error handler's replacement).</summary>
    public void ContinueAfterFailure(object? value)
    {
        var beforeFirstStep = FailedStep is StartFailureStep;
        Error = null;
        FailedStep = null;
        Failure = null;
        _recoveryStep = null;
        Item = value;
        Context.Attempt = 1;
        Phase = RunPhase.Step;
        if (!beforeFirstStep)
        {
            Advance(); // a replacement for an item that failed before its first step is the task's input: start there
        }
    }

    /// <summary>Drops the item: the run ends as dropped, or, for an item a flatMap emitted, the run goes on with the next one.</summary>
    public void Drop()
    {
        if (_emitted is null)
        {
            Finish(RunOutcome.Dropped);
        }
        else
        {
            NextEmitted();
        }
    }

    public void Finish(RunOutcome outcome)
    {
        Outcome = outcome;
        Phase = RunPhase.Done;
    }

    /// <summary>Continues in a branch path.</summary>
    public void Enter(Pipeline path)
    {
        Pipeline = path;
        StepIndex = 0;
        Context.Attempt = 1;
        Phase = RunPhase.Step;
    }

    public void Fault(Exception error, Step step)
    {
        Error = error;
        FailedStep = step;
        Phase = RunPhase.Faulted;
    }

    /// <summary>Runs <paramref name="step"/> (the error handler or the dead-letter write) next, on a worker.</summary>
    public void Recover(Step step)
    {
        _recoveryStep = step;
        Phase = RunPhase.Recovery;
    }

    /// <summary>Prepares the failed step (or recovery step) to be tried again.</summary>
    public void PrepareRetry()
    {
        Context.Attempt++;
        Phase = _recoveryStep is null ? RunPhase.Step : RunPhase.Recovery;
        Error = null;
        FailedStep = null;
    }

    /// <summary>
    /// Records that the executing step finishes when <paramref name="pending"/> completes. The continuation is
    /// registered by the worker after the step returns, so that nothing else touches the run before the worker is done.
    /// </summary>
    public void AwaitPending(Task pending) => _pending = pending;

    /// <summary>Guards the exactly-once acknowledgement.</summary>
    public bool TryMarkFinished() => Interlocked.Exchange(ref _finished, 1) == 0;

    /// <summary>
    /// Executes the run's current phase on a worker thread. Steps that complete synchronously run back to back on this
    /// worker (handing the run to the run loop between them would cost two queue hops and a context switch per step and
    /// change nothing); the run goes back to the run loop when it ends, fails, or awaits. Each step runs in its own
    /// <see cref="ExecutionContext.Run"/> of the run's context, so AsyncLocal values a step sets never leak into the next.
    /// </summary>
    public void Execute()
    {
        TakeOver();
        HasStarted = true;
        do
        {
            if (CancellationToken.IsCancellationRequested)
            {
                Finish(RunOutcome.Abandoned);
                break;
            }

            if (Task.StepRate is { } stepRate && ActiveStep.IsProcessor && !stepRate.TryEnter(this))
            {
                return; // no step permit: the limiter owns the run until it sends it back with one
            }

            ExecutionContext.Run(ExecutionContext!, s_executeStep, this); // set for every run when it starts
        }
        while (Phase == RunPhase.Step && !IsAtEnd && !IsPending);

        if (IsPending)
        {
            HandOffToPending();
        }
        else
        {
            HandOff();
            _runLoop.Enqueue(this);
        }
    }

    /// <summary>
    /// Executes the current step on the thread that completed the run's previous await, inside the run's execution
    /// context (<see cref="InlineSteps"/> decides when; it calls this).
    /// </summary>
    public void ExecuteStepInline() => ExecutionContext.Run(ExecutionContext!, s_executeStep, this);

    /// <summary>Debug builds: asserts that nobody else owns the run and makes the calling thread its owner.</summary>
    [Conditional("DEBUG")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Uses the owner field in debug builds.")]
    public void TakeOver()
    {
#if DEBUG
        var previous = Interlocked.CompareExchange(ref _owner, System.Environment.CurrentManagedThreadId, 0);
        Debug.Assert(previous == 0, $"Run taken over by thread {System.Environment.CurrentManagedThreadId} while thread {previous} owns it.");
#endif
    }

    /// <summary>Debug builds: asserts that the calling thread owns the run and gives it up (before handing it on).</summary>
    [Conditional("DEBUG")]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Uses the owner field in debug builds.")]
    public void HandOff()
    {
#if DEBUG
        var previous = Interlocked.Exchange(ref _owner, 0);
        Debug.Assert(previous == System.Environment.CurrentManagedThreadId, $"Run handed off by thread {System.Environment.CurrentManagedThreadId}, but thread {previous} owns it.");
#endif
    }

    /// <summary>
    /// Starts the next emitted item at the start of the flatMap's path, or, when none is left, ends the run: completed
    /// when at least one emitted item reached the end, else dropped (a flatMap that emitted nothing, or filters that
    /// dropped everything).
    /// </summary>
    private void NextEmitted()
    {
        var emitted = _emitted!;
        if (emitted.MoveNext(this))
        {
            Enter(emitted.Path);
            return;
        }

        _emitted = emitted.Outer;
        if (_emitted is null)
        {
            Finish(emitted.Completed > 0 ? RunOutcome.Completed : RunOutcome.Dropped);
            return;
        }

        // A nested flatMap is done with the outer item that emitted its items: the outer one goes on with its next.
        if (emitted.Completed > 0)
        {
            _emitted.Completed++;
        }

        NextEmitted();
    }

    public void SetItem<T>(T value)
    {
        if (!typeof(T).IsValueType)
        {
            Item = value;
        }
        else if (Item is StrongBox<T> box)
        {
            box.Value = value;
        }
        else
        {
            Item = new StrongBox<T>(value);
        }
    }

    private void RunStep()
    {
        var step = ActiveStep;
        _stepStartedAt = Stopwatch.GetTimestamp();
        try
        {
            step.Execute(this);
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        if (!IsPending && step.IsTimed)
        {
            _diagnostics.RecordStep(Task, step, _stepStartedAt);
        }
    }

    private void OnPendingCompleted()
    {
        TakeOver();
        var step = ActiveStep;
        try
        {
            if (_awaitsWork)
            {
                var work = _pendingWork;
                _pendingWork = default;
                _awaitsWork = false;
                work.GetAwaiter().GetResult(); // once: a pooled source is recycled by it
                Advance();
            }
            else
            {
                var pending = _pending!;
                _pending = null;
                step.CompletePending(this, pending);
            }
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        if (step.IsTimed)
        {
            _diagnostics.RecordStep(Task, step, _stepStartedAt);
        }

        // A next step that never blocks (a write to a non-blocking sink) runs here; one that may block goes straight
        // back to the pool; the run loop only sees ends, failures and retries.
        if (InlineSteps.TryRun(this))
        {
            if (IsPending)
            {
                HandOffToPending();
                return;
            }

            // The inline steps completed at once: the run goes on like any run whose step completed at once.
        }

        if (!DirectDispatch.TryResume(this))
        {
            HandOff();
            _runLoop.Enqueue(this);
        }
    }

    /// <summary>Registers the continuation of the pending step and lets go of the run.</summary>
    private void HandOffToPending()
    {
        var pending = _pending;
        var work = _pendingWork;

        // Nothing may touch the run after this line: the continuation may already be handing it on. A task that has
        // completed already gets its continuation queued to the thread pool, not run here, so chains never nest (a
        // pooled ValueTask source does the same with ConfigureAwait(false)).
        HandOff();
        if (pending is not null)
        {
            pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        }
        else
        {
            work.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        }
    }
}
