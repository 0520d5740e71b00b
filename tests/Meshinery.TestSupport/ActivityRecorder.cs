using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meshinery.TestSupport;

/// <summary>Records the activities of the <c>Meshinery</c> activity source that stop, optionally only one task's.</summary>
public sealed class ActivityRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly Arrivals _arrivals = new();

    /// <summary>Starts listening.</summary>
    /// <param name="taskName">Records only activities tagged with this task (tests run in parallel).</param>
    public ActivityRecorder(string? taskName = null)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Meshinery",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (taskName is null || Equals(activity.GetTagItem("meshinery.task"), taskName))
                {
                    _stopped.Enqueue(activity);
                    _arrivals.Arrive();
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The activities that stopped, in order.</summary>
    public IReadOnlyList<Activity> Stopped => [.. _stopped];

    /// <summary>Completes when at least <paramref name="count"/> activities stopped.</summary>
    public Task WaitForStoppedAsync(int count) => _arrivals.WaitForAsync(count);

    /// <inheritdoc/>
    public void Dispose() => _listener.Dispose();
}
