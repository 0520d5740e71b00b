using System.Globalization;
using System.Text.RegularExpressions;
using Meshinery.TestSupport;

namespace Meshinery.Kafka.Tests.Samples;

/// <summary>
/// The OrderEnrichment sample running as a child process (<c>dotnet OrderEnrichment.dll ...</c>), as other programs
/// drive it: a <see cref="ChildProcess"/> (both streams read continuously and kept) plus what is particular to this
/// sample, its instance name and its summary line.
/// </summary>
/// <remarks>
/// The test project references the sample with <c>ReferenceOutputAssembly="false"</c>, so building the tests builds
/// the sample (same configuration) without copying it; <see cref="ChildProcess.LocateSample"/> finds its output under
/// <c>samples/OrderEnrichment/bin/{configuration}/{framework}/</c>. <c>MESHINERY_ORDER_ENRICHMENT_DLL</c> overrides
/// the path.
/// </remarks>
public sealed partial class SampleProcess : IAsyncDisposable
{
    public const string DllOverrideVariable = "MESHINERY_ORDER_ENRICHMENT_DLL";

    private static readonly Lazy<string> s_dll = new(() => ChildProcess.LocateSample("OrderEnrichment", DllOverrideVariable, typeof(SampleProcess).Assembly));
    private readonly ChildProcess _child;

    private SampleProcess(ChildProcess child)
    {
        _child = child;
    }

    /// <summary>The child's process id (the sample writes it into every output as <c>enrichedBy</c>).</summary>
    public int Id => _child.Id;

    /// <summary>What the sample writes into <c>enrichedBy</c>.</summary>
    public string Instance => string.Create(CultureInfo.InvariantCulture, $"order-enrichment/{Id}");

    public IReadOnlyList<string> StandardOutput => _child.StandardOutput;

    /// <summary>Both streams, for failure messages.</summary>
    public string Transcript => _child.Transcript;

    public static SampleProcess Start(IEnumerable<string> arguments) => new(ChildProcess.Start(s_dll.Value, arguments, "the sample"));

    /// <summary>Waits for a line on stderr (progress, logs) that satisfies <paramref name="predicate"/>; fails at the deadline or when the child exits first.</summary>
    public Task<string> WaitForStderrLineAsync(Func<string, bool> predicate, string what, TimeSpan deadline) =>
        _child.WaitForLinesAsync(predicate, 1, what, deadline, stderrOnly: true);

    /// <summary>Waits for the child to exit and for both streams to be read to their end; kills it at the deadline.</summary>
    public Task<int> WaitForExitAsync(TimeSpan deadline) => _child.WaitForExitAsync(deadline);

    /// <summary>Kills the child at once (SIGKILL on Linux and macOS): no drain, no final commit, no flush.</summary>
    public void Kill() => _child.Kill();

    /// <summary>Parses the summary, which must be the last line on stdout.</summary>
    public SampleSummary Summary()
    {
        var last = _child.StandardOutput.LastOrDefault(line => line.Length > 0);
        var match = last is null ? Match.Empty : SummaryLine().Match(last);
        if (!match.Success)
        {
            throw new FormatException($"The last line on stdout is not the summary: '{last}'.{Environment.NewLine}{Transcript}");
        }

        return new SampleSummary(
            long.Parse(match.Groups["processed"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["failed"].Value, CultureInfo.InvariantCulture),
            long.Parse(match.Groups["dead"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["elapsed"].Value, CultureInfo.InvariantCulture),
            double.Parse(match.Groups["throughput"].Value, CultureInfo.InvariantCulture));
    }

    public ValueTask DisposeAsync() => _child.DisposeAsync();

    [GeneratedRegex(@"^processed=(?<processed>\d+) failed=(?<failed>\d+) dead-lettered=(?<dead>\d+) elapsed_s=(?<elapsed>\d+\.\d+) throughput_per_s=(?<throughput>\d+\.\d+)$")]
    private static partial Regex SummaryLine();
}

/// <summary>The sample's summary line: <c>processed=N failed=N dead-lettered=N elapsed_s=X throughput_per_s=Y</c>.</summary>
public sealed record SampleSummary(long Processed, long Failed, long DeadLettered, double ElapsedSeconds, double ThroughputPerSecond);
