namespace Meshinery.Kafka.Tests.Samples;

/// <summary>The sample's <c>--describe</c> (its Mermaid flowchart, which docs/architecture.md embeds) and <c>--otel-console</c>.</summary>
public class OrderEnrichmentDescribeAndOtelTests
{
    [Fact]
    public async Task Sample_Describe_PrintsTheFlowchartTheArchitectureDocEmbedsAndConsumesNothing()
    {
        await using var sample = SampleProcess.Start(["--describe"]);

        (await sample.WaitForExitAsync(TimeSpan.FromSeconds(60))).Should().Be(0, sample.Transcript);
        var chart = string.Join("\n", sample.StandardOutput).TrimEnd();
        chart.Should().StartWith("flowchart LR")
            .And.Contain("subgraph task0[\"enrich-orders\"]")
            .And.Contain("e1[(\"orders<br/><small>KafkaInput</small>\")]")
            .And.Contain("e2[(\"orders-enriched<br/><small>KafkaOutput</small>\")]")
            .And.Contain("task0 -. failed .-> e3");
        sample.Transcript.Should().NotContain("Meshinery started", "describing starts neither the engine nor a consumer");

        var doc = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "docs", "architecture.md"));
        doc.ReplaceLineEndings("\n").Should().Contain("```mermaid\n" + chart + "\n```", "docs/architecture.md embeds the sample's --describe output; run it again and paste");
    }

    [Fact]
    public async Task Sample_OtelConsole_ExportsMeshineryMetricsAndTracesBeforeTheSummary()
    {
        await using var sample = SampleProcess.Start(["--otel-console", "--seed", "20", "--latency-ms", "5"]);

        (await sample.WaitForExitAsync(TimeSpan.FromSeconds(120))).Should().Be(0, sample.Transcript);
        var stdout = sample.StandardOutput;
        stdout.Count(l => l.Contains("Activity.DisplayName:", StringComparison.Ordinal) && l.EndsWith("run enrich-orders", StringComparison.Ordinal))
            .Should().Be(20, "one run activity per order");
        stdout.Should().Contain(l => l.StartsWith("Metric Name: meshinery.runs.completed,", StringComparison.Ordinal));
        stdout.Should().Contain(l => l.StartsWith("Metric Name: meshinery.step.duration,", StringComparison.Ordinal));
        stdout.Should().Contain(l => l.StartsWith("(0.0005,0.001]:", StringComparison.Ordinal), "the histogram is exported with the advised buckets");
        sample.Summary().Processed.Should().Be(20, "the summary stays the last line on stdout");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Meshinery.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Meshinery.sln above {AppContext.BaseDirectory}.");
    }
}
