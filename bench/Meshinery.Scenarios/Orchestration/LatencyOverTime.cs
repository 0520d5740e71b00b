using System.Diagnostics;
using Meshinery.Scenarios.Messages;
using static System.FormattableString;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// Where in a run its latency tail lives: the service latency (read to output) of the outputs of each second after the
/// first read, printed for open-loop runs. A tail made at the start (joins, first connections, JIT) and one spread over
/// the run have different causes; the percentiles of the whole run do not tell them apart. Diagnostic only: nothing is
/// measured from it.
/// </summary>
internal static class LatencyOverTime
{
    public static void Print(string label, long firstReadStamp, List<OutputRecord> outputs, TextWriter log)
    {
        if (outputs.Count == 0)
        {
            return;
        }

        var toMilliseconds = 1000.0 / Stopwatch.Frequency;
        var bySecond = outputs
            .GroupBy(o => (int)Math.Max(0, (o.ReadStamp - firstReadStamp) / Stopwatch.Frequency))
            .OrderBy(g => g.Key);
        var cells = new List<string>();
        foreach (var second in bySecond)
        {
            var sorted = second.Select(o => (o.OutputStamp - o.ReadStamp) * toMilliseconds).Order().ToArray();
            cells.Add(Invariant($"{second.Key}s:{sorted.Length}/{sorted[(int)(0.99 * (sorted.Length - 1))]:F0}/{sorted[^1]:F0}"));
        }

        var backlog = outputs.Count(o => o.ProducedStamp < firstReadStamp);
        log.WriteLine(Invariant($"  {label,-34} produced before the first read: {backlog:N0}; service ms by second read (count/p99/max): {string.Join(' ', cells)}"));
    }
}
