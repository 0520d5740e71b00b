using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Meshinery.Tests.Health;

/// <summary>The health check added by <c>AddHealthChecks().AddMeshinery()</c>: engine state first, then each reporting input.</summary>
public class MeshineryHealthCheckTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task CheckHealth_EngineLifecycle_UnhealthyUnlessRunning()
    {
        var input = new ReportingInput("plain");
        await using var harness = Create(input);

        (await CheckAsync(harness)).Should().Match<HealthReportEntry>(e => e.Status == HealthStatus.Unhealthy && e.Description!.Contains("not started"));

        await harness.StartAsync();
        var running = await CheckAsync(harness);
        running.Status.Should().Be(HealthStatus.Healthy);
        running.Data["engine"].Should().Be("Running");

        await harness.StopAsync();
        var stopped = await CheckAsync(harness);
        stopped.Status.Should().Be(HealthStatus.Unhealthy);
        stopped.Data["engine"].Should().Be("Stopped");
    }

    [Fact]
    public async Task CheckHealth_FatalError_UnhealthyWithTheError()
    {
        var input = new ReportingInput("fatal");
        await using var harness = Create(input);
        await harness.StartAsync();

        input.Fail(new InvalidOperationException("the broker fenced us"));
        await harness.Engine.Completion.ContinueWith(_ => { }, TaskScheduler.Default).Within("the engine to stop after the fatal error");

        var entry = await CheckAsync(harness);
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Data["engine"].Should().Be("Faulted");
        entry.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("the broker fenced us");
    }

    [Fact]
    public async Task CheckHealth_CustomFailureStatus_UsedWhenNotRunning()
    {
        await using var harness = Create(new ReportingInput("plain"), failureStatus: HealthStatus.Degraded);

        (await CheckAsync(harness)).Status.Should().Be(HealthStatus.Degraded);
    }

    [Fact]
    public async Task CheckHealth_NoPartitionsPastTheTimeout_DegradedNamingTaskAndInput()
    {
        var time = new FakeTimeProvider(Start);
        var input = new ReportingInput("orders") { Snapshot = new() { AssignedPartitions = 0, AssignmentChangedAt = Start, Lag = 0 } };
        await using var harness = Create(input, time, o => o.NoPartitionsTimeout = TimeSpan.FromMinutes(1));
        await harness.StartAsync();

        time.Advance(TimeSpan.FromSeconds(59));
        var before = await CheckAsync(harness);
        time.Advance(TimeSpan.FromSeconds(1));
        var after = await CheckAsync(harness);

        before.Status.Should().Be(HealthStatus.Healthy);
        before.Data["health-task/orders"].Should().Be("ok, 0 partition(s), lag 0");
        after.Status.Should().Be(HealthStatus.Degraded);
        after.Description.Should().Contain("task 'health-task' input 'orders'").And.Contain("no partitions for 00:01:00");
        after.Data["health-task/orders"].Should().BeOfType<string>().Which.Should().StartWith("no partitions");
    }

    [Fact]
    public async Task CheckHealth_NoProgressWithLag_DegradedButIdleInputStaysHealthy()
    {
        var time = new FakeTimeProvider(Start);
        var stalled = new ReportingInput("stalled") { Snapshot = new() { AssignedPartitions = 2, AssignmentChangedAt = Start, LastProgressAt = Start, Lag = 5 } };
        var idle = new ReportingInput("idle") { Snapshot = new() { AssignedPartitions = 2, AssignmentChangedAt = Start, LastProgressAt = Start, Lag = 0 } };
        await using var harness = Create([stalled, idle], time, o => o.NoProgressTimeout = TimeSpan.FromMinutes(3));
        await harness.StartAsync();

        time.Advance(TimeSpan.FromMinutes(3));
        var entry = await CheckAsync(harness);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("input 'stalled': no progress for 00:03:00 with a lag of 5").And.NotContain("'idle'");
        entry.Data["health-task/idle"].Should().Be("ok, 2 partition(s), lag 0");

        stalled.Snapshot = stalled.Snapshot with { LastProgressAt = time.GetUtcNow() };
        (await CheckAsync(harness)).Status.Should().Be(HealthStatus.Healthy, "progress was made again");
    }

    [Fact]
    public async Task CheckHealth_LagAboveMaxLag_Degraded()
    {
        var input = new ReportingInput("orders") { Snapshot = new() { AssignedPartitions = 4, LastProgressAt = Start, Lag = 1_001 } };
        await using var harness = Create(input, new FakeTimeProvider(Start), o => o.MaxLag = 1_000);
        await harness.StartAsync();

        var entry = await CheckAsync(harness);
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Be("task 'health-task' input 'orders': lag 1001 is above 1000");

        input.Snapshot = input.Snapshot with { Lag = 1_000 };
        (await CheckAsync(harness)).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task CheckHealth_InfiniteTimeouts_RulesSwitchedOff()
    {
        var time = new FakeTimeProvider(Start);
        var input = new ReportingInput("orders") { Snapshot = new() { AssignedPartitions = 0, AssignmentChangedAt = Start, LastProgressAt = Start, Lag = 7 } };
        await using var harness = Create(input, time, o =>
        {
            o.NoPartitionsTimeout = Timeout.InfiniteTimeSpan;
            o.NoProgressTimeout = Timeout.InfiniteTimeSpan;
        });
        await harness.StartAsync();

        time.Advance(TimeSpan.FromDays(1));
        (await CheckAsync(harness)).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Start_ZeroThresholds_FailsNamingEachSetting()
    {
        await using var harness = Create(new ReportingInput("orders"), configure: o =>
        {
            o.NoPartitionsTimeout = TimeSpan.Zero;
            o.NoProgressTimeout = TimeSpan.FromSeconds(-5);
            o.MaxLag = 0;
        });

        // What the host runs before it starts any hosted service.
        var validate = () => harness.Services.GetRequiredService<IStartupValidator>().Validate();

        var error = validate.Should().Throw<OptionsValidationException>().Which;
        error.Failures.Should().HaveCount(3);
        error.Message.Should()
            .Contain("MeshineryHealthCheckOptions.NoPartitionsTimeout of health check 'meshinery' must be greater than zero")
            .And.Contain("MeshineryHealthCheckOptions.NoProgressTimeout").And.Contain("was -00:00:05")
            .And.Contain("MeshineryHealthCheckOptions.MaxLag of health check 'meshinery' must be greater than zero");
    }

    private static EngineHarness Create(
        ReportingInput input,
        TimeProvider? time = null,
        Action<MeshineryHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null) =>
        Create([input], time, configure, failureStatus);

    private static EngineHarness Create(
        ReportingInput[] inputs,
        TimeProvider? time = null,
        Action<MeshineryHealthCheckOptions>? configure = null,
        HealthStatus? failureStatus = null) =>
        EngineHarness.Create(
            mesh => mesh.AddTask<int>("health-task", task =>
            {
                foreach (var input in inputs)
                {
                    task.ReadFrom(input);
                }

                task.Process(i => i);
            }),
            timeProvider: time,
            services: s => s.AddHealthChecks().AddMeshinery(configure, failureStatus: failureStatus));

    private static async Task<HealthReportEntry> CheckAsync(EngineHarness harness)
    {
        var report = await harness.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync().Within("the health check");
        return report.Entries["meshinery"];
    }
}
