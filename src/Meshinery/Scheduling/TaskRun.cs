using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Meshinery;

/// <summary>What the run loop does next with a run.</summary>
internal enum RunPhase
{
    /// <summary>Run the step at <see cref="TaskRun.StepIndex"/>, or finish when the pipeline is done.</summary>
    Step,

    /// <summary>A step (or the read) failed: retry, call the error handler or dead-letter.</summary>
    Faulted,

    /// <summary>Call the task's error handler on a worker.</summary>
    HandleError,

    /// <summary>Write the failure to the dead-letter output, or log it.</summary>
    DeadLetter,

    /// <summary>Finished with <see cref="TaskRun.Outcome"/>: acknowledge.</summary>
    Done,
}

/// <summary>
/// One input item on its way through a task: the engine's side of a run (the user's side is its
/// <see cref="TaskRunContext"/>). The run loop owns it between steps; a worker owns it while steps execute; the
/// continuation of a pending step owns it until it hands it back. It is never in two places at once, so its fields
/// need no locks. Runs are pooled: after the acknowledgement nothing may keep a reference to one.
/// </summary>
internal sealed class TaskRun : IWorkItem
{
    private static readonly ContextCallback s_executePhase = static state => ((TaskRun)state!).ExecutePhase();
    private readonly Action _onPendingCompleted;
    private Task? _pending;
    private long _stepStartedAt;
    private int _finished;

    public TaskRun(Scheduler scheduler)
    {
        Scheduler = scheduler;
        _onPendingCompleted = OnPendingCompleted;
    }

    public Scheduler Scheduler { get; }

    public TaskRuntime Task { get; private set; } = null!;

    public TaskRunContext Context { get; private set; } = null!;

    public Pipeline Pipeline { get; private set; } = null!;

    public int StepIndex { get; private set; }

    public RunPhase Phase { get; set; }

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
    public object? Raw => Context.SourceRecord;

    public ExecutionContext? ExecutionContext { get; set; }

    public Activity? Activity { get; set; }

    /// <summary>The trace context the input item carried; only read while the run's context is built.</summary>
    public ActivityContext ParentActivity { get; set; }

    public TaskCompletionSource<RunResult>? InjectCompletion { get; private set; }

    public SourcePosition Position => Context.Position;

    public string TaskName => Task.Name;

    public int Attempt => Context.Attempt;

    public CancellationToken CancellationToken => Context.CancellationToken;

    public Step CurrentStep => Pipeline.Steps[StepIndex];

    public bool IsAtEnd => StepIndex >= Pipeline.Steps.Length;

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
            AwaitPending(work.AsTask());
        }
    }

    /// <summary>Resumes after the failed step with <paramref name="value"/> as its result (an error handler's replacement).</summary>
    public void ContinueAfterFailure(object? value)
    {
        var wasRead = FailedStep is ReadFailureStep;
        Error = null;
        FailedStep = null;
        Failure = null;
        Item = value;
        Context.Attempt = 1;
        Phase = RunPhase.Step;
        if (!wasRead)
        {
            StepIndex++; // a replacement for an unreadable item is the task's input: start at the first step
        }
    }

    public void Drop() => Finish(RunOutcome.Dropped);

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

    /// <summary>Prepares the failed step (or dead-letter write) to be tried again.</summary>
    public void PrepareRetry()
    {
        Context.Attempt++;
        Phase = FailedStep is DeadLetterStep ? RunPhase.DeadLetter : RunPhase.Step;
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
        HasStarted = true;
        do
        {
            if (CancellationToken.IsCancellationRequested)
            {
                Finish(RunOutcome.Abandoned);
                break;
            }

            ExecutionContext.Run(ExecutionContext!, s_executePhase, this); // set for every run when it starts
        }
        while (Phase == RunPhase.Step && !IsAtEnd && _pending is null);

        if (_pending is { } pending)
        {
            // Nothing may touch the run after this line: the continuation may already be handing it on.
            pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
        }
        else
        {
            Scheduler.RunLoop.Enqueue(this);
        }
    }

    /// <summary>Whether a worker has executed the run before (resumed runs go ahead of fresh ones).</summary>
    public bool HasStarted { get; private set; }

    private void SetItem<T>(T value)
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

    private void ExecutePhase()
    {
        switch (Phase)
        {
            case RunPhase.HandleError:
                Scheduler.HandleError(this);
                break;
            case RunPhase.DeadLetter:
                RunStep(Task.DeadLetterStep!);
                break;
            default:
                RunStep(CurrentStep);
                break;
        }
    }

    private void RunStep(Step step)
    {
        _stepStartedAt = Stopwatch.GetTimestamp();
        try
        {
            step.Execute(this);
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        if (_pending is null)
        {
            Scheduler.Diagnostics.RecordStep(Task, step, _stepStartedAt);
        }
    }

    private void OnPendingCompleted()
    {
        var pending = _pending!;
        _pending = null;
        var step = Phase == RunPhase.DeadLetter ? Task.DeadLetterStep! : CurrentStep;
        try
        {
            step.CompletePending(this, pending);
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        Scheduler.Diagnostics.RecordStep(Task, step, _stepStartedAt);
        Scheduler.RunLoop.Enqueue(this);
    }
}

/// <summary>The pseudo-step an unreadable item fails in (see <see cref="ProcessingFailure.ReadStepName"/>).</summary>
internal sealed class ReadFailureStep(Type inputType) : Step(ProcessingFailure.ReadStepName, inputType)
{
    public override bool IsProcessor => false;

    public override void Execute(TaskRun run) => throw new InvalidOperationException("The read step never executes.");
}

/// <summary>Writes a run's <see cref="ProcessingFailure"/> to the task's dead-letter output.</summary>
internal sealed class DeadLetterStep(OutputSink<ProcessingFailure> sink) : Step("dead-letter", typeof(ProcessingFailure))
{
    public override bool IsProcessor => false;

    public override void Execute(TaskRun run)
    {
        var write = sink.WriteAsync(run.Failure!, run.CancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult(); // a ValueTask backed by a pooled source is recycled only by GetResult
            Written(run);
        }
        else
        {
            run.AwaitPending(write.AsTask());
        }
    }

    public override void CompletePending(TaskRun run, Task pending)
    {
        pending.GetAwaiter().GetResult();
        Written(run);
    }

    private static void Written(TaskRun run)
    {
        run.DeadLettered = true;
        run.Finish(RunOutcome.Failed);
    }

    public override bool IsTransientFailure(Exception error) => sink.IsTransient(error);
}
