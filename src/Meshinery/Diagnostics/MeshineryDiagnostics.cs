using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Meshinery;

/// <summary>
/// The engine's metrics and traces: one <see cref="Meter"/> and one <see cref="ActivitySource"/>, both named
/// <c>Meshinery</c>. Every instrument is tagged with <c>meshinery.task</c>.
/// </summary>
internal sealed class MeshineryDiagnostics : IDisposable
{
    public const string Name = "Meshinery";
    public const string TaskTag = "meshinery.task";
    public const string StepTag = "meshinery.step";
    public const string PoolTag = "meshinery.pool";

    public static readonly ActivitySource ActivitySource = new(Name, typeof(MeshineryDiagnostics).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Bucket boundaries for <c>meshinery.step.duration</c>, in seconds: from half a millisecond to five minutes, so that
    /// fast in-memory steps, REST calls and long blocking jobs each land in buckets of their own. Exporters that honour
    /// advice (OpenTelemetry does) use them instead of their defaults, which are sized for milliseconds.
    /// </summary>
    public static readonly IReadOnlyList<double> StepDurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static readonly InstrumentAdvice<double> StepDurationAdvice = new() { HistogramBucketBoundaries = StepDurationBuckets };

    private readonly bool _ownsMeter;

    public MeshineryDiagnostics(IMeterFactory? meterFactory)
    {
        // A meter from the application's IMeterFactory is disposed with the container; our own one with the engine.
        Meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _ownsMeter = meterFactory is null;
        RunsStarted = Meter.CreateCounter<long>("meshinery.runs.started", "{run}", "Runs started: items read from an input or injected.");
        RunsCompleted = Meter.CreateCounter<long>("meshinery.runs.completed", "{run}", "Runs whose steps all ran and whose outputs are durable.");
        RunsFailed = Meter.CreateCounter<long>("meshinery.runs.failed", "{run}", "Runs handed to the error path (dead-lettered or logged).");
        RunsDeadLettered = Meter.CreateCounter<long>("meshinery.runs.dead_lettered", "{run}", "Failed runs written to the dead-letter output.");
        RunsDropped = Meter.CreateCounter<long>("meshinery.runs.dropped", "{run}", "Runs dropped by a filter, an unmatched branch or the error handler.");
        RunsAbandoned = Meter.CreateCounter<long>("meshinery.runs.abandoned", "{run}", "Runs given up at shutdown.");
        RunsRetried = Meter.CreateCounter<long>("meshinery.runs.retried", "{retry}", "Step retries, output write retries included.");
        InFlight = Meter.CreateUpDownCounter<long>("meshinery.runs.in_flight", "{run}", "Runs read but not yet acknowledged.");
        StepDuration = Meter.CreateHistogram<double>(
            "meshinery.step.duration", "s", "How long steps take, from start to result (awaits included).", tags: null, StepDurationAdvice);
        PollErrors = Meter.CreateCounter<long>("meshinery.input.poll_errors", "{error}", "Failed polls of input sources (retried with backoff).");
    }

    public Meter Meter { get; }

    public Counter<long> RunsStarted { get; }

    public Counter<long> RunsCompleted { get; }

    public Counter<long> RunsFailed { get; }

    public Counter<long> RunsDropped { get; }

    public Counter<long> RunsDeadLettered { get; }

    public Counter<long> RunsAbandoned { get; }

    public Counter<long> RunsRetried { get; }

    public UpDownCounter<long> InFlight { get; }

    public Histogram<double> StepDuration { get; }

    public Counter<long> PollErrors { get; }

    /// <summary>Reports the size of every worker pool as <c>meshinery.workers.size</c>, tagged <c>meshinery.pool</c>.</summary>
    public void ObserveWorkerPools(Func<IEnumerable<(string Pool, int Size)>> pools) =>
        Meter.CreateObservableGauge(
            "meshinery.workers.size",
            () => pools().Select(p => new Measurement<int>(p.Size, new KeyValuePair<string, object?>(PoolTag, p.Pool))),
            "{thread}",
            "Threads of each worker pool (an elastic pool's grow and shrink between its minimum and maximum).");

    public void RecordStep(TaskRuntime task, Step step, long startedAt)
    {
        if (StepDuration.Enabled)
        {
            StepDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, task.MetricTag, new KeyValuePair<string, object?>(StepTag, step.Name));
        }
    }

    public static Activity? StartRunActivity(TaskRun run, ActivityContext parent)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        // Without a parent from the item, the caller's current activity (for injected items) is the parent.
        var activity = parent == default
            ? ActivitySource.StartActivity(run.Task.ActivityName, ActivityKind.Consumer)
            : ActivitySource.StartActivity(run.Task.ActivityName, ActivityKind.Consumer, parent);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(TaskTag, run.TaskName);
            activity.SetTag("meshinery.run_id", run.Context.RunId);
            activity.SetTag("messaging.destination.name", run.Position.Source);
            activity.SetTag("messaging.destination.partition.id", run.Position.Partition);
            activity.SetTag("messaging.kafka.offset", run.Position.Offset);
        }

        return activity;
    }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
