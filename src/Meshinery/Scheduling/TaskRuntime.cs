namespace Meshinery;

/// <summary>A task while the engine runs it: its definition, worker pool, in-flight count and statistics.</summary>
internal sealed class TaskRuntime
{
    // Fields, not properties: they are updated with Interlocked on the hot path.
    public int InFlight;
    public long Started;
    public long Completed;
    public long Failed;
    public long DeadLettered;
    public long Dropped;
    public long Abandoned;
    public long Retried;

    public TaskRuntime(TaskDefinition definition, WorkerPool workers, WorkerPool? reservedWorkers, FailurePolicy failures, PollBudget budget, StepRateLimiter? stepRate = null)
    {
        Budget = budget;
        StepRate = stepRate;
        Definition = definition;
        Workers = workers;
        _highWorkers = reservedWorkers ?? workers;
        Priority = PriorityPolicy.For(definition);
        ReadStep = new StartFailureStep(ProcessingFailure.ReadStepName, definition.InputType, hasItem: false);
        ErrorHandlerStep = definition.ErrorHandler is { } handler ? new ErrorHandlerStep(handler, failures) : null;
        DeadLetterStep = definition.DeadLetterSink is { } sink ? new DeadLetterStep(sink) : null;
        Ordering = OrderingPolicy.For(definition, new StartFailureStep(TaskDefinition.OrderKeyStepName, definition.InputType, hasItem: true));
        RefillThreshold = Math.Max(1, definition.MaxInFlight / 16);
        MetricTag = new KeyValuePair<string, object?>(MeshineryDiagnostics.TaskTag, definition.Name);
        ActivityName = "run " + definition.Name;
    }

    /// <summary>The name of the activity of each run.</summary>
    public string ActivityName { get; }

    public TaskDefinition Definition { get; }

    /// <summary>When the run loop last warned about a transient output failure of this task (run loop thread only).</summary>
    public long LastOutageWarning { get; set; }

    public string Name => Definition.Name;

    public WorkerPool Workers { get; }

    /// <summary>Which runs are high priority.</summary>
    public PriorityPolicy Priority { get; }

    /// <summary>The pool a run's steps run on: the task's reserved workers for high-priority runs, when it has some.</summary>
    public WorkerPool WorkersFor(TaskRun run) => run.IsHighPriority ? _highWorkers : Workers;

    /// <summary>Sends the run's next step to its pool, in its lane.</summary>
    public void Dispatch(TaskRun run, bool resumed) => WorkersFor(run).Enqueue(run, resumed, run.IsHighPriority);

    /// <summary>The pseudo-step an unreadable item fails in.</summary>
    public Step ReadStep { get; }

    public ErrorHandlerStep? ErrorHandlerStep { get; }

    /// <summary>How many items the poll loop may read for the task beyond its free slots (its rate limit).</summary>
    public PollBudget Budget { get; }

    /// <summary>The task's step rate limit, if it has one.</summary>
    public StepRateLimiter? StepRate { get; }

    /// <summary>When the task's runs may start (unordered, by key, by partition).</summary>
    public OrderingPolicy Ordering { get; }

    public DeadLetterStep? DeadLetterStep { get; }

    /// <summary>
    /// How many slots must be free before a finishing run wakes the poll loop: refilling in small batches keeps the
    /// task near its limit without waking the poll loop for every single run.
    /// </summary>
    public int RefillThreshold { get; }

    public KeyValuePair<string, object?> MetricTag { get; }

    public int FreeSlots => Definition.MaxInFlight - Volatile.Read(ref InFlight);

    private readonly WorkerPool _highWorkers;

    public TaskStatistics GetStatistics() => new(
        Name,
        Interlocked.Read(ref Started),
        Interlocked.Read(ref Completed),
        Interlocked.Read(ref Failed),
        Interlocked.Read(ref DeadLettered),
        Interlocked.Read(ref Dropped),
        Interlocked.Read(ref Abandoned),
        Interlocked.Read(ref Retried),
        Volatile.Read(ref InFlight));
}
