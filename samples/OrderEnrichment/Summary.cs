using System.Globalization;
using Confluent.Kafka;
using Meshinery;

namespace OrderEnrichment;

/// <summary>The end of a run: the human-readable report (stderr) and the one machine-readable line (stdout).</summary>
internal static class Summary
{
    /// <summary>The last line on stdout; other programs parse it.</summary>
    public static string Line(TaskStatistics stats, Observations observations)
    {
        var elapsed = observations.Elapsed.TotalSeconds;
        var handled = stats.Completed + stats.Failed + stats.Dropped;
        var throughput = elapsed > 0 ? handled / elapsed : 0;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"processed={stats.Completed} failed={stats.Failed} dead-lettered={observations.DeadLettered} elapsed_s={elapsed:F2} throughput_per_s={throughput:F1}");
    }

    /// <summary>How fast it went compared with Little's law, and where a message's time in flight went.</summary>
    public static IEnumerable<string> Report(SampleSettings settings, TaskStatistics stats, Observations observations, double averageInFlight, StepProfiler? profiler)
    {
        var elapsed = observations.Elapsed.TotalSeconds;
        var handled = stats.Completed + stats.Failed + stats.Dropped;
        if (elapsed <= 0 || handled == 0)
        {
            yield return "summary: no message was handled";
            yield break;
        }

        var throughput = handled / elapsed;
        yield return string.Create(
            CultureInfo.InvariantCulture,
            $"summary: {handled:N0} messages ({stats.Completed:N0} enriched, {stats.Failed:N0} failed, {observations.DeadLettered:N0} dead-lettered) in {elapsed:F2} s = {throughput:N0} msgs/s");

        if (settings.Latency > TimeSpan.Zero)
        {
            // Little's law: with N messages blocking at once for W seconds each, at most N / W get through per second.
            // Each message also holds its in-flight slot during the async call (and until the broker acknowledged its
            // output), so with as many slots as workers the slots are the tighter limit.
            var workers = settings.WorkerThreads ?? settings.MaxInFlight;
            var blocking = Math.Min(workers, settings.MaxInFlight);
            var blockingBound = blocking / settings.Latency.TotalSeconds;
            var workerBound = workers / settings.Latency.TotalSeconds;
            var slotBound = settings.MaxInFlight / (settings.Latency + settings.AsyncLatency).TotalSeconds;
            var pipelineBound = Math.Min(workerBound, slotBound);
            yield return string.Create(
                CultureInfo.InvariantCulture,
                $"Little's law: {blocking} blocking at once / {settings.Latency.TotalMilliseconds:N0} ms = {blockingBound:N0} msgs/s ({throughput / blockingBound:P0} reached); " +
                $"this pipeline: min({workers} workers / {settings.Latency.TotalMilliseconds:N0} ms, {settings.MaxInFlight} slots / " +
                $"{(settings.Latency + settings.AsyncLatency).TotalMilliseconds:N0} ms blocking + async) = {pipelineBound:N0} msgs/s ({throughput / pipelineBound:P0} reached)");
        }

        // Measured: L (average in flight) = throughput × W (average time a message held its slot).
        var timeInFlight = averageInFlight / throughput;
        var profile = string.Create(
            CultureInfo.InvariantCulture,
            $"measured: {averageInFlight:N1} messages in flight on average (limit {settings.MaxInFlight}), so each held its slot {timeInFlight * 1000:N1} ms on average");
        if (profiler is not null)
        {
            var steps = profiler.TotalAverageSeconds;
            profile += string.Create(
                CultureInfo.InvariantCulture,
                $"; its steps took {steps * 1000:N1} ms of that, {(timeInFlight - steps) * 1000:N1} ms went to queues and hand-offs between them");
        }

        yield return profile;
        if (profiler is not null)
        {
            yield return profiler.Format();
        }
    }

    /// <summary>
    /// Checks that every offset read was committed: per partition, the committed offset (the next one to read) must
    /// be past the newest offset read. Returns the problems.
    /// </summary>
    public static List<string> CheckCommitted(IReadOnlyDictionary<TopicPartition, long> lastRead, IReadOnlyDictionary<TopicPartition, long> committed) =>
    [
        .. lastRead
            .Where(read => !committed.TryGetValue(read.Key, out var offset) || offset <= read.Value)
            .OrderBy(read => read.Key.Topic, StringComparer.Ordinal).ThenBy(read => read.Key.Partition.Value)
            .Select(read => string.Create(
                CultureInfo.InvariantCulture,
                $"{read.Key}: read up to offset {read.Value}, committed {(committed.TryGetValue(read.Key, out var offset) ? offset.ToString(CultureInfo.InvariantCulture) : "nothing")}")),
    ];
}
