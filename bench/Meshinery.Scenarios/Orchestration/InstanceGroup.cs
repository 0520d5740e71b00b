namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// Scale-out: several instances of one system in one consumer group, each a child process of its own started at the
/// same time, and their reports merged into one (outputs summed; the window from the first read of any instance to
/// the last acknowledgement of any; CPU and memory summed over the processes).
/// </summary>
internal static class InstanceGroup
{
    /// <param name="spec">The run; every instance gets the same (one group, one output topic).</param>
    /// <param name="label">The run's label; instances are <c>label.1</c>, <c>label.2</c>, …</param>
    /// <param name="instances">How many processes.</param>
    /// <param name="allReady">Called once, when every instance holds partitions (the input is seeded then).</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public static async Task<RunReport> RunAsync(RunSpec spec, string label, int instances, Func<Task> allReady, CancellationToken cancellationToken)
    {
        var ready = 0;
        void OnReady()
        {
            if (Interlocked.Increment(ref ready) == instances)
            {
                _ = allReady();
            }
        }

        var runs = Enumerable.Range(1, instances)
            .Select(i => ChildProcess.RunAsync(spec, $"{label}.{i}", cancellationToken, OnReady))
            .ToList();
        var reports = await Task.WhenAll(runs).ConfigureAwait(false);
        var reads = reports.Select(r => r.FirstReadStamp).Where(s => s != 0).ToList();
        return new RunReport
        {
            Acked = reports.Sum(r => r.Acked),
            Failed = reports.Sum(r => r.Failed),
            FirstError = reports.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            FirstReadStamp = reads.Count > 0 ? reads.Min() : 0,
            LastAckStamp = reports.Max(r => r.LastAckStamp),
            EndReason = string.Join('+', reports.Select(r => r.EndReason).Distinct()),
            CpuSeconds = reports.Sum(r => r.CpuSeconds),
            WallSeconds = reports.Max(r => r.WallSeconds),
            PeakWorkingSetBytes = reports.Sum(r => r.PeakWorkingSetBytes),
            KernelPeakResidentBytes = reports.Sum(r => r.KernelPeakResidentBytes),
            WakeUps = reports.Sum(r => r.WakeUps),
            StopSeconds = reports.Max(r => r.StopSeconds),
            AllocatedBytes = reports.Sum(r => r.AllocatedBytes),
            Collections = reports.Sum(r => r.Collections),
        };
    }
}
