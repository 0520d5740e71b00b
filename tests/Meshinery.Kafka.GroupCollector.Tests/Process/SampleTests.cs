using System.Text.Json;

namespace Meshinery.Kafka.GroupCollector.Tests.Process;

/// <summary>The sample's no-argument run: the seed's three examples on its own embedded cluster.</summary>
public class SampleTests
{
    [Fact]
    public async Task Sample_WithoutArguments_PrintsTheSeedsThreeResults()
    {
        await using var sample = CollectorProcess.Start();

        (await sample.WaitForExitAsync(TimeSpan.FromSeconds(90))).Should().Be(0, sample.Transcript);

        var results = sample.StandardOutput.Select(line => JsonDocument.Parse(line).RootElement).ToDictionary(r => r.GetProperty("id").GetString()!);
        results.Should().HaveCount(3, sample.Transcript);
        results["F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81"].GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        results["F0CABCA1-64AE-40A3-ABEB-0741ACF1FF82"].GetProperty("error").GetString().Should().Be("Error while processing operation. Insufficient space on bounded volume");
        results["F0CABCA1-64AE-40A3-ABEB-0741ACF1FF83"].GetProperty("error").GetString().Should().Be("Operation timed out after 10 seconds");
    }
}
