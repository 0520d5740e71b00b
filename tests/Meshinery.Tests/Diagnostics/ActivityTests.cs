using System.Collections.Concurrent;
using System.Diagnostics;

namespace Meshinery.Tests.Diagnostics;

/// <summary>Each run is traced as an activity of the <c>Meshinery</c> source, current inside every step.</summary>
public class ActivityTests
{
    [Fact]
    public async Task Run_Traced_OneConsumerActivityPerRunWithItsTags()
    {
        using var recorder = new ActivityRecorder("traced");
        var input = new ScriptedInput<int>("orders", partition: 2);
        input.Add(10, 11);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("traced", task => task
            .ReadFrom(input)
            .Where(i => i == 10)));

        await harness.StartAsync();
        await recorder.WaitForStoppedAsync(2);

        var activities = recorder.Stopped.OrderBy(a => a.GetTagItem("messaging.kafka.offset")).ToList();
        activities.Should().HaveCount(2);
        activities.Should().OnlyContain(a => a.OperationName == "run traced" && a.Kind == ActivityKind.Consumer && a.Source.Name == "Meshinery");
        activities[0].GetTagItem("meshinery.task").Should().Be("traced");
        activities[0].GetTagItem("messaging.destination.name").Should().Be("orders");
        activities[0].GetTagItem("messaging.destination.partition.id").Should().Be(2);
        activities[0].GetTagItem("messaging.kafka.offset").Should().Be(0L);
        activities[0].GetTagItem("meshinery.run_id").Should().BeOfType<long>();
        activities[0].GetTagItem("meshinery.outcome").Should().Be("Completed");
        activities[1].GetTagItem("meshinery.outcome").Should().Be("Dropped");
        activities.Should().OnlyContain(a => a.Status == ActivityStatusCode.Unset);
    }

    [Fact]
    public async Task Run_Failed_ActivityHasErrorStatus()
    {
        using var recorder = new ActivityRecorder("traced-failure");
        var input = new ScriptedInput<int>();
        input.Add(1);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("traced-failure", task => task
            .ReadFrom(input)
            .Process(i => i > 0 ? throw new InvalidOperationException("boom") : i)));

        await harness.StartAsync();
        await recorder.WaitForStoppedAsync(1);

        var activity = recorder.Stopped.Single();
        activity.Status.Should().Be(ActivityStatusCode.Error);
        activity.StatusDescription.Should().Be("boom");
        activity.GetTagItem("meshinery.outcome").Should().Be("Failed");
    }

    [Fact]
    public async Task Steps_OnAnyThread_SeeTheirRunsActivityAsCurrent()
    {
        using var recorder = new ActivityRecorder("traced-current");
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 20));
        var seen = new ConcurrentBag<(int Item, string Step, string? SpanId)>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("traced-current", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                seen.Add((i, "sync", Activity.Current?.SpanId.ToString()));
                return i;
            })
            .Process(async (i, ct) =>
            {
                await Task.Delay(1, ct);
                seen.Add((i, "after-await", Activity.Current?.SpanId.ToString()));
                return i;
            })
            .ForkJoin(
                [(i, ct) =>
                {
                    seen.Add((i, "branch", Activity.Current?.SpanId.ToString()));
                    return ValueTask.FromResult(i);
                }],
                (i, results) => i)));

        await harness.StartAsync();
        await recorder.WaitForStoppedAsync(20);

        var spanByOffset = recorder.Stopped.ToDictionary(a => (long)a.GetTagItem("messaging.kafka.offset")!, a => a.SpanId.ToString());
        seen.Should().HaveCount(60);
        seen.Should().OnlyContain(s => s.SpanId == spanByOffset[s.Item], "each step runs under its own run's activity");
        Activity.Current.Should().BeNull();
    }

    [Fact]
    public async Task InjectAsync_UnderACallerActivity_RunActivityIsItsChild()
    {
        using var recorder = new ActivityRecorder("traced-inject");
        using var callerSource = new ActivitySource("Meshinery.Tests.Caller");
        using var callerListener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Meshinery.Tests.Caller",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(callerListener);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("traced-inject", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => i)));
        await harness.StartAsync();

        using (var caller = callerSource.StartActivity("http request"))
        {
            await harness.Engine.InjectAsync("traced-inject", 1).Within("the injected run");
            await recorder.WaitForStoppedAsync(1);

            var run = recorder.Stopped.Single();
            run.ParentSpanId.Should().Be(caller!.SpanId);
            run.TraceId.Should().Be(caller.TraceId);
        }
    }
}
