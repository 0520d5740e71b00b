namespace Meshinery;

/// <summary>
/// One step of a task's pipeline. <see cref="Execute"/> runs on a worker thread (or, for a step that
/// <see cref="RunsInline"/>, on the thread that completed the run's previous await) inside the run's execution context;
/// it ends by telling the run what happened (<see cref="TaskRun.Continue"/>, <see cref="TaskRun.Advance"/>,
/// <see cref="TaskRun.AdvanceWhenDone"/>, <see cref="TaskRun.Drop"/>, <see cref="TaskRun.Finish"/>,
/// <see cref="TaskRun.Enter"/> or <see cref="TaskRun.AwaitPending"/>). An exception it throws faults the run.
/// </summary>
internal abstract class Step(string name, Type outputType)
{
    public string Name { get; } = name;

    /// <summary>The type of the value the step passes on (an error handler's replacement must have it).</summary>
    public Type OutputType { get; } = outputType;

    /// <summary>Whether the step is a user processor (counted in <see cref="TaskData.ProcessorCountKey"/>).</summary>
    public virtual bool IsProcessor => true;

    /// <summary>
    /// Whether the step never blocks and runs no user code that might, so that the thread that completed the run's
    /// previous await may execute it instead of a worker (<see cref="InlineSteps"/> decides). Default: false: every
    /// user step (sync or async processors, side effects, filters, maps) runs on a worker.
    /// </summary>
    public virtual bool RunsInline => false;

    /// <summary>Whether the step's duration is recorded (<c>meshinery.step.duration</c>).</summary>
    public virtual bool IsTimed => true;

    /// <summary>Branch paths, for steps that have them.</summary>
    public virtual IEnumerable<Pipeline> Paths => [];

    public abstract void Execute(TaskRun run);

    /// <summary>Takes the result of the task <see cref="Execute"/> left pending. Runs on the completing thread; no user code.</summary>
    public virtual void CompletePending(TaskRun run, Task pending)
    {
        pending.GetAwaiter().GetResult();
        run.Advance();
    }

    /// <summary>Whether a failure of this step may be retried without limit (transient output failures).</summary>
    public virtual bool IsTransientFailure(Exception error) => false;

    /// <summary>Returns a description of a configuration problem, or <see langword="null"/>.</summary>
    public virtual string? Validate() => null;
}

/// <summary>An ordered list of steps. A task has one; each branch path is another.</summary>
internal sealed class Pipeline(Step[] steps)
{
    public Step[] Steps { get; } = steps;

    public IEnumerable<Step> AllSteps() => Steps.SelectMany(s => s.Paths.SelectMany(p => p.AllSteps()).Prepend(s));
}
