using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Meshinery.Tests.Diagnostics;

/// <summary>The <c>Meshinery</c> meter's instruments, tagged with the task.</summary>
public class MetricsTests
{
    [Fact]
    public async Task Counters_MixedOutcomes_CountEachKindPerTask()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var failedOnce = 0;
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("metrics", task => task
                .ReadFrom(input)
                .WithRetry(2, TimeSpan.FromSeconds(1))
                .Where(i => i != 0)
                .Process(i => i == 1 && Interlocked.Exchange(ref failedOnce, 1) == 0 ? throw new TimeoutException("once") : i)
                .Process(i => i == 2 ? throw new InvalidOperationException("always") : i)),
            timeProvider: time);
        using var collectors = new Collectors(harness.MeterFactory);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(8);
        // Both failing runs must wait in the delay queue before the clock moves: one still running would be due a
        // second after the move, with nothing left to move the clock again.
        await collectors.WaitForAsync("meshinery.runs.retried", 2);
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(1));
        time.Advance(TimeSpan.FromSeconds(1));
        await input.WaitForAcknowledgementsAsync(10);
        await harness.StopAsync();

        collectors.Sum("meshinery.runs.started", "metrics").Should().Be(10);
        collectors.Sum("meshinery.runs.completed", "metrics").Should().Be(8);
        collectors.Sum("meshinery.runs.dropped", "metrics").Should().Be(1);
        collectors.Sum("meshinery.runs.failed", "metrics").Should().Be(1);
        collectors.Sum("meshinery.runs.retried", "metrics").Should().Be(2);
        collectors.Sum("meshinery.runs.abandoned", "metrics").Should().Be(0);
        collectors.Sum("meshinery.runs.in_flight", "metrics").Should().Be(0, "every run that went in came out");
    }

    [Fact]
    public async Task InFlight_RunsBlocked_CountsThemAndAbandonedCountsRunsGivenUp()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 3));
        var inStep = new Arrivals();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("metrics-in-flight", task => task
                .ReadFrom(input)
                .Process(async (i, ct) =>
                {
                    inStep.Arrive();
                    await Task.Delay(Timeout.Infinite, ct);
                    return i;
                })),
            options => options.DrainTimeout = TimeSpan.Zero);
        using var collectors = new Collectors(harness.MeterFactory);

        await harness.StartAsync();
        await inStep.WaitForAsync(3);
        collectors.Sum("meshinery.runs.in_flight", "metrics-in-flight").Should().Be(3);
        await harness.StopAsync();

        collectors.Sum("meshinery.runs.in_flight", "metrics-in-flight").Should().Be(0);
        collectors.Sum("meshinery.runs.abandoned", "metrics-in-flight").Should().Be(3);
    }

    [Fact]
    public async Task StepDuration_EveryStep_RecordedWithTaskAndStepTags()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("metrics-steps", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                Thread.Sleep(20); // blocking work the histogram must see
                return i;
            }, "slow")
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                return i;
            }, "async")
            .WriteTo(new InMemoryOutput<int>("out"))));
        using var durations = new MetricCollector<double>(harness.MeterFactory, "Meshinery", "meshinery.step.duration");

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        var measurements = durations.GetMeasurementSnapshot()
            .Where(m => Equals(m.Tags["meshinery.task"], "metrics-steps"))
            .ToList();
        measurements.GroupBy(m => (string)m.Tags["meshinery.step"]!).ToDictionary(g => g.Key, g => g.Count())
            .Should().Equal(new Dictionary<string, int> { ["slow"] = 2, ["async"] = 2, ["write-out"] = 2 });
        measurements.Where(m => Equals(m.Tags["meshinery.step"], "slow")).Should().OnlyContain(m => m.Value >= 0.015, "durations are in seconds");
        durations.Instrument!.Unit.Should().Be("s");
    }

    [Fact]
    public async Task PollErrors_FailingPoll_AreCounted()
    {
        var input = new ScriptedInput<int> { PollFault = poll => poll <= 2 ? new IOException("down") : null };
        input.Add(1);
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("metrics-poll", task => task.ReadFrom(input)),
            options => options.ErrorBackoff = TimeSpan.FromMilliseconds(1));
        using var collectors = new Collectors(harness.MeterFactory);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        collectors.Sum("meshinery.input.poll_errors", "metrics-poll").Should().Be(2);
    }

    [Fact]
    public async Task Meter_NoMeterFactoryRegistered_EngineUsesItsOwnMeter()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("own-meter", task => task.ReadFrom(input)));
        await using var provider = services.BuildServiceProvider();
        provider.GetService<IMeterFactory>().Should().BeNull();
        // Every factory-less engine (other tests run in parallel) has a meter named "Meshinery" without a scope, and a
        // MetricCollector binds to the first such instrument it sees: listen to all of them, count this task's runs.
        long started = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument is { Name: "meshinery.runs.started", Meter: { Name: "Meshinery", Scope: null } })
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "meshinery.task" && Equals(tag.Value, "own-meter"))
                {
                    Interlocked.Add(ref started, value);
                }
            }
        });
        listener.Start();
        var engine = provider.GetRequiredService<MeshineryEngine>();

        await engine.StartAsync().Within("the engine to start");
        await input.WaitForAcknowledgementsAsync(3);

        Interlocked.Read(ref started).Should().Be(3, "the engine's own meter counted each run it started");
    }

    /// <summary>Collects the engine's long-valued instruments from one meter factory.</summary>
    private sealed class Collectors(IMeterFactory factory) : IDisposable
    {
        private static readonly string[] Names =
        [
            "meshinery.runs.started", "meshinery.runs.completed", "meshinery.runs.failed", "meshinery.runs.dropped",
            "meshinery.runs.abandoned", "meshinery.runs.retried", "meshinery.runs.in_flight", "meshinery.input.poll_errors",
        ];

        private readonly Dictionary<string, MetricCollector<long>> _collectors =
            Names.ToDictionary(name => name, name => new MetricCollector<long>(factory, "Meshinery", name));

        public long Sum(string instrument, string taskName) =>
            _collectors[instrument].GetMeasurementSnapshot().Where(m => Equals(m.Tags["meshinery.task"], taskName)).Sum(m => m.Value);

        public Task WaitForAsync(string instrument, int measurements) =>
            _collectors[instrument].WaitForMeasurementsAsync(measurements).Within($"{measurements} measurements of {instrument}");

        public void Dispose()
        {
            foreach (var collector in _collectors.Values)
            {
                collector.Dispose();
            }
        }
    }
}
