using System.Diagnostics.Metrics;

namespace Meshinery.Tests.Diagnostics;

/// <summary>The step-duration histogram advises bucket boundaries that fit milliseconds to minutes.</summary>
public class StepDurationAdviceTests
{
    [Fact]
    public async Task StepDuration_Published_AdvisesBucketsFromMillisecondsToMinutes()
    {
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("advice", task => task.ReadFrom(input).Process(i => i)));
        IReadOnlyList<double>? boundaries = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument is Histogram<double> { Name: "meshinery.step.duration" } histogram)
                {
                    boundaries = histogram.Advice?.HistogramBucketBoundaries;
                }
            },
        };
        listener.Start();

        _ = harness.Engine; // creating the engine creates its meter and instruments

        boundaries.Should().NotBeNull("the histogram carries bucket advice");
        boundaries.Should().BeInAscendingOrder().And.OnlyHaveUniqueItems();
        boundaries![0].Should().BeLessThanOrEqualTo(0.001, "a millisecond step needs a bucket of its own");
        boundaries[^1].Should().BeGreaterThanOrEqualTo(60, "a step of minutes must not fall into the overflow bucket");
        boundaries.Count(b => b is >= 0.01 and <= 1).Should().BeGreaterThanOrEqualTo(4, "REST-call latencies need resolution");
    }
}
