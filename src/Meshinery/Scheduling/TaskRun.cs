using System.Diagnostics;

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
/// One input item on its way through a task. The run loop owns it between steps; a worker owns it while a step
/// executes; the continuation of a pending step owns it until it hands it back. It is never in two places at once,
/// so its fields need no locks.
/// </summary>
internal sealed class TaskRun : TaskRunContext, IWorkItem
{
    private static readonly ContextCallback s_executeInContext = static state => ((TaskRun)state!).ExecuteInContext();
    private Action? _onPendingCompleted;
    private int _finished;

    public TaskRun(Scheduler scheduler, TaskRuntime task, long runId, object? item, SourcePosition position, IAcknowledger? acknowledger, object? raw)
        : base(task.Definition.Data, runId, position)
    {
        Scheduler = scheduler;
        Task = task;
        Pipeline = task.Definition.Root;
        Item = item;
        Acknowledger = acknowledger;
        Raw = raw;
    }

    public Scheduler Scheduler { get; }

    public TaskRuntime Task { get; }

    public Pipeline Pipeline { get; private set; }

    public int StepIndex { get; private set; }

    public object? Item { get; private set; }

    public RunPhase Phase { get; set; }

    public RunOutcome Outcome { get; private set; }

    public Exception? Error { get; private set; }

    public Step? FailedStep { get; private set; }

    public ProcessingFailure? Failure { get; set; }

    public IAcknowledger? Acknowledger { get; }

    public object? Raw { get; }

    public ExecutionContext? Context { get; set; }

    public Activity? Activity { get; set; }

    public TaskCompletionSource<RunResult>? InjectCompletion { get; set; }

    public long StartedAt { get; set; }

    /// <summary>The step waiting for <see cref="PendingTask"/>; set by <see cref="AwaitPending"/>.</summary>
    private Step? PendingStep { get; set; }

    private Task? PendingTask { get; set; }

    private long StepStartedAt { get; set; }

    /// <inheritdoc/>
    public override CancellationToken CancellationToken => Scheduler.RunsCancellation;

    public Step CurrentStep => Pipeline.Steps[StepIndex];

    public bool IsAtEnd => StepIndex >= Pipeline.Steps.Length;

    /// <summary>Prepares the failed step (or dead-letter write) to be tried again.</summary>
    public void PrepareRetry()
    {
        Attempt++;
        Phase = FailedStep is DeadLetterStep ? RunPhase.DeadLetter : RunPhase.Step;
        Error = null;
        FailedStep = null;
    }

    /// <summary>Passes <paramref name="value"/> on to the next step.</summary>
    public void Continue(object? value)
    {
        Item = value;
        StepIndex++;
        Attempt = 1;
        Phase = RunPhase.Step;
    }

    /// <summary>Starts the run again at the failed step with <paramref name="value"/> as its result (error handler replacement).</summary>
    public void ContinueAfterFailure(object? value)
    {
        Error = null;
        if (FailedStep is ReadFailureStep)
        {
            // A replacement for an unreadable item is the task's input: start at the first step.
            Item = value;
            Attempt = 1;
            Phase = RunPhase.Step;
        }
        else
        {
            Continue(value);
        }

        FailedStep = null;
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
        Attempt = 1;
        Phase = RunPhase.Step;
    }

    public void Fault(Exception error, Step step)
    {
        Error = error;
        FailedStep = step;
        Phase = RunPhase.Faulted;
    }

    /// <summary>
    /// Records that <paramref name="step"/> finishes when <paramref name="pending"/> completes. The continuation is
    /// registered by the worker after the step returns, so that nothing else can touch the run before the worker is done.
    /// </summary>
    public void AwaitPending(Task pending, Step step)
    {
        PendingTask = pending;
        PendingStep = step;
    }

    /// <summary>Whether the run has been acknowledged; guards the exactly-once acknowledgement.</summary>
    public bool TryMarkFinished() => Interlocked.Exchange(ref _finished, 1) == 0;

    /// <summary>Executes the run's current phase on a worker thread, in the run's execution context.</summary>
    public void Execute()
    {
        if (Context is null)
        {
            ExecuteInContext();
        }
        else
        {
            ExecutionContext.Run(Context, s_executeInContext, this);
        }

        if (PendingTask is { } pending)
        {
            // Nothing may touch the run after this line: the continuation may already be handing it on.
            pending.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted ??= OnPendingCompleted);
        }
        else
        {
            Scheduler.RunLoop.Enqueue(this);
        }
    }

    /// <summary>Sets the ambient context while the engine captures the run's execution context.</summary>
    public static void SetAmbient(TaskRun? run) => SetCurrent(run);

    private void ExecuteInContext()
    {
        if (CancellationToken.IsCancellationRequested)
        {
            Finish(RunOutcome.Abandoned);
            return;
        }

        switch (Phase)
        {
            case RunPhase.Step:
                RunStep(CurrentStep);
                break;
            case RunPhase.HandleError:
                Scheduler.HandleError(this);
                break;
            case RunPhase.DeadLetter:
                RunStep(Task.DeadLetterStep!);
                break;
            default:
                throw new InvalidOperationException($"A run in phase {Phase} was sent to a worker.");
        }
    }

    private void RunStep(Step step)
    {
        StepStartedAt = Stopwatch.GetTimestamp();
        try
        {
            step.Execute(this);
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        if (PendingTask is null)
        {
            Scheduler.Diagnostics.RecordStep(Task, step, StepStartedAt);
        }
    }

    private void OnPendingCompleted()
    {
        var step = PendingStep!;
        var pending = PendingTask!;
        PendingStep = null;
        PendingTask = null;
        try
        {
            step.CompletePending(this, pending);
        }
        catch (Exception error)
        {
            Fault(error, step);
        }

        Scheduler.Diagnostics.RecordStep(Task, step, StepStartedAt);
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
            run.Finish(RunOutcome.Failed);
        }
        else
        {
            run.AwaitPending(write.AsTask(), this);
        }
    }

    public override void CompletePending(TaskRun run, Task pending)
    {
        pending.GetAwaiter().GetResult();
        run.Finish(RunOutcome.Failed);
    }

    public override bool IsTransientFailure(Exception error) => sink.IsTransient(error);
}
