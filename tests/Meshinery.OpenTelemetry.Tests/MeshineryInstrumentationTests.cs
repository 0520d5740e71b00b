using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Meshinery.OpenTelemetry.Tests;

/// <summary><c>AddMeshineryInstrumentation()</c> with OpenTelemetry's SDK and in-memory exporters.</summary>
public class MeshineryInstrumentationTests
{
    [Fact]
    public async Task AddMeshineryInstrumentation_Metrics_ExportsRunCountsAndStepDurationsWithTheAdvisedBuckets()
    {
        var exported = new List<Metric>();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeshineryInstrumentation().AddInMemoryExporter(exported).Build();
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("otel-metrics", task => task
            .ReadFrom(new InMemoryInput<int>())
            .Process(i => i + 1, "inc")
            .WriteTo(output)));
        await harness.StartAsync();

        for (var i = 0; i < 3; i++)
        {
            (await harness.Engine.InjectAsync("otel-metrics", i)).Outcome.Should().Be(RunOutcome.Completed);
        }

        meters.ForceFlush().Should().BeTrue();

        Sum(exported, "meshinery.runs.completed", "otel-metrics").Should().Be(3);
        var durations = exported.Last(m => m.Name == "meshinery.step.duration");
        var points = Points(durations).Where(p => Tag(p, "meshinery.step") == "inc").ToList();
        points.Should().ContainSingle().Which.GetHistogramCount().Should().Be(3);
        var bounds = new List<double>();
        foreach (var bucket in points[0].GetHistogramBuckets())
        {
            bounds.Add(bucket.ExplicitBound);
        }

        bounds.Should().StartWith([0.0005, 0.001, 0.0025], "the exported histogram uses the instrument's advice, not OpenTelemetry's millisecond defaults");
        bounds.Should().Contain(300);
    }

    [Fact]
    public async Task AddMeshineryInstrumentation_Tracing_ExportsOneConsumerActivityPerRun()
    {
        var exported = new List<Activity>();
        using var tracer = Sdk.CreateTracerProviderBuilder().AddMeshineryInstrumentation().AddInMemoryExporter(exported).Build();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("otel-traces", task => task
            .ReadFrom(new InMemoryInput<int>())
            .Process(i => i)));
        await harness.StartAsync();

        await harness.Engine.InjectAsync("otel-traces", 1);
        await harness.Engine.InjectAsync("otel-traces", 2);
        tracer.ForceFlush().Should().BeTrue();

        var runs = exported.Where(a => a.Source.Name == "Meshinery" && (string?)a.GetTagItem("meshinery.task") == "otel-traces").ToList();
        runs.Should().HaveCount(2);
        runs.Should().OnlyContain(a => a.DisplayName == "run otel-traces" && a.Kind == ActivityKind.Consumer);
    }

    [Fact]
    public void AddMeshineryInstrumentation_KafkaNames_AreSubscribedToo()
    {
        // Meshinery.Kafka publishes under this name; a meter and a source of that name stand in for it here.
        var metrics = new List<Metric>();
        var activities = new List<Activity>();
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeshineryInstrumentation().AddInMemoryExporter(metrics).Build())
        using (var tracer = Sdk.CreateTracerProviderBuilder().AddMeshineryInstrumentation().AddInMemoryExporter(activities).Build())
        using (var kafkaMeter = new Meter(MeshineryTelemetry.KafkaName))
        using (var kafkaSource = new ActivitySource(MeshineryTelemetry.KafkaName))
        using (var otherMeter = new Meter("Someone.Else"))
        {
            kafkaMeter.CreateCounter<long>("meshinery.kafka.test").Add(5);
            otherMeter.CreateCounter<long>("someone.else.test").Add(1);
            using (kafkaSource.StartActivity("commit"))
            {
            }

            meters.ForceFlush();
            tracer.ForceFlush();
        }

        metrics.Select(m => m.Name).Should().Contain("meshinery.kafka.test").And.NotContain("someone.else.test");
        activities.Should().ContainSingle(a => a.Source.Name == "Meshinery.Kafka" && a.DisplayName == "commit");
    }

    private static long Sum(List<Metric> metrics, string name, string task) =>
        metrics.Where(m => m.Name == name).Select(m => Points(m).Where(p => Tag(p, "meshinery.task") == task).Sum(p => p.GetSumLong())).LastOrDefault();

    private static List<MetricPoint> Points(Metric metric)
    {
        var points = new List<MetricPoint>();
        foreach (ref readonly var point in metric.GetMetricPoints())
        {
            points.Add(point);
        }

        return points;
    }

    private static string? Tag(MetricPoint point, string key)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
