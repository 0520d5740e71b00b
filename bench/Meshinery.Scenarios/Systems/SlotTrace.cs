using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Meshinery.Scenarios.Messages;

namespace Meshinery.Scenarios.Systems;

/// <summary>
/// Diagnosis only (environment variable <c>MESHINERY_BENCH_TRACE=1</c>): decomposes the time a Meshinery run holds its
/// in-flight slot, from the run's start (its activity starts when the poll loop creates it) to its acknowledgement
/// (the activity stops), with stamps taken in the step and around the output write. Tracing adds an activity per run,
/// so throughput is slightly lower while it is on.
/// </summary>
internal sealed class SlotTrace : IDisposable
{
    private const string StartKey = "bench.start";
    private const string StampsKey = "bench.stamps";
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<long[]> _runs = new();

    public SlotTrace()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Meshinery",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity => activity.SetCustomProperty(StartKey, Stopwatch.GetTimestamp()),
            ActivityStopped = activity =>
            {
                if (activity.GetCustomProperty(StampsKey) is Stamps stamps && activity.GetCustomProperty(StartKey) is long start)
                {
                    _runs.Enqueue([start, stamps.WorkStart, stamps.WorkEnd, stamps.WriteStart, stamps.WriteEnd, Stopwatch.GetTimestamp()]);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public static bool Enabled => Environment.GetEnvironmentVariable("MESHINERY_BENCH_TRACE") == "1";

    /// <summary>Called in the step, in the run's context.</summary>
    public static Stamps? Begin()
    {
        if (Activity.Current is not { } activity)
        {
            return null;
        }

        var stamps = new Stamps { WorkStart = Stopwatch.GetTimestamp() };
        activity.SetCustomProperty(StampsKey, stamps);
        return stamps;
    }

    public static Stamps? Current => Activity.Current?.GetCustomProperty(StampsKey) as Stamps;

    public void Dispose() => _listener.Dispose();

    /// <summary>Writes the decomposition (medians, means and p99 of each interval, in ms) to standard error.</summary>
    public void Report(TextWriter writer)
    {
        var runs = _runs.ToArray();
        if (runs.Length == 0)
        {
            writer.WriteLine("trace: no runs recorded");
            return;
        }

        string[] names = ["start → step starts", "step (the work)", "step ends → write starts", "write (produce until acked)", "acked → run acknowledged", "slot held (start → acknowledged)"];
        var toMs = 1000.0 / Stopwatch.Frequency;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trace: {runs.Length:N0} runs"));
        for (var i = 0; i < names.Length; i++)
        {
            var values = runs.Select(r => i == names.Length - 1 ? (r[5] - r[0]) * toMs : (r[i + 1] - r[i]) * toMs).Order().ToArray();
            writer.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"trace: {names[i],-34} mean {values.Average(),8:N3} ms  p50 {values[values.Length / 2],8:N3} ms  p99 {values[(int)(values.Length * 0.99)],8:N3} ms"));
        }
    }

    internal sealed class Stamps
    {
        public long WorkStart { get; set; }

        public long WorkEnd { get; set; }

        public long WriteStart { get; set; }

        public long WriteEnd { get; set; }
    }
}
