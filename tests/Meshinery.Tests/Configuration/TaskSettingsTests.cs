using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Configuration;

/// <summary>Per-task settings bound from configuration by task name; they override the definition's values.</summary>
public class TaskSettingsTests
{
    [Fact]
    public async Task BindTaskSettings_ValuesPresent_OverrideTheDefinitionAndAbsentOnesKeepIt()
    {
        var configuration = Configuration(new()
        {
            ["Meshinery:Tasks:enrich:MaxInFlight"] = "12",
            ["Meshinery:Tasks:enrich:WorkerThreads"] = "3",
            ["Meshinery:Tasks:enrich:MaxWorkerThreads"] = "9",
            ["Meshinery:Tasks:enrich:WorkerIdleTimeout"] = "00:00:05",
            ["Meshinery:Tasks:enrich:Ordering"] = "partition",
            ["Meshinery:Tasks:enrich:Retry:MaxAttempts"] = "4",
            ["Meshinery:Tasks:enrich:Retry:Delay"] = "00:00:00.050",
            ["Meshinery:Tasks:enrich:Retry:BackoffMultiplier"] = "1.5",
        });
        await using var harness = EngineHarness.Create(mesh => mesh
            .BindTaskSettings(configuration.GetSection("Meshinery:Tasks"))
            .AddTask<int>("enrich", task => task
                .ReadFrom(new ScriptedInput<int>())
                .WithMaxInFlight(100)
                .WithRetry(r => r.MaxDelay = TimeSpan.FromSeconds(7))
                .OrderByKey())
            .AddTask<int>("untouched", task => task.ReadFrom(new ScriptedInput<int>()).WithMaxInFlight(100)));

        var enrich = harness.Engine.Definitions.Single(d => d.Name == "enrich");
        enrich.MaxInFlight.Should().Be(12);
        enrich.WorkerThreads.Should().Be(3);
        enrich.MaxWorkerThreads.Should().Be(9);
        enrich.WorkerIdleTimeout.Should().Be(TimeSpan.FromSeconds(5));
        enrich.Ordering.Should().Be(TaskOrdering.Partition);
        enrich.Retry.MaxAttempts.Should().Be(4);
        enrich.Retry.Delay.Should().Be(TimeSpan.FromMilliseconds(50));
        enrich.Retry.BackoffMultiplier.Should().Be(1.5);
        enrich.Retry.MaxDelay.Should().Be(TimeSpan.FromSeconds(7), "a key absent from configuration keeps the definition's value");
        enrich.Data[TaskData.MaxInFlightKey].Should().Be("12");
        harness.Engine.Definitions.Single(d => d.Name == "untouched").MaxInFlight.Should().Be(100);
    }

    [Fact]
    public async Task BindTaskSettings_FromEnvironmentVariables_DoubleUnderscoreKeysAreApplied()
    {
        var prefix = $"MESHINERY_TEST_{Guid.NewGuid():N}_";
        var variables = new Dictionary<string, string>
        {
            [prefix + "Meshinery__Tasks__enrich__MaxInFlight"] = "7",
            [prefix + "Meshinery__Tasks__enrich__Retry__MaxAttempts"] = "2",
            [prefix + "Meshinery__Tasks__enrich__Ordering"] = "Key",
        };
        try
        {
            foreach (var (name, value) in variables)
            {
                Environment.SetEnvironmentVariable(name, value);
            }

            var configuration = new ConfigurationBuilder().AddEnvironmentVariables(prefix).Build();
            await using var harness = EngineHarness.Create(mesh => mesh
                .BindTaskSettings(configuration.GetSection("Meshinery:Tasks"))
                .AddTask<int>("enrich", task => task.ReadFrom(new ScriptedInput<int>())));

            var enrich = harness.Engine.Definitions.Single();
            enrich.MaxInFlight.Should().Be(7);
            enrich.Retry.MaxAttempts.Should().Be(2);
            enrich.Ordering.Should().Be(TaskOrdering.Key);
        }
        finally
        {
            foreach (var name in variables.Keys)
            {
                Environment.SetEnvironmentVariable(name, null);
            }
        }
    }

    [Fact]
    public async Task BindTaskSettings_RetryFromConfiguration_IsWhatTheRunsUse()
    {
        var configuration = Configuration(new()
        {
            ["Tasks:flaky:Retry:MaxAttempts"] = "3",
            ["Tasks:flaky:Retry:Delay"] = "00:00:00",
        });
        var attempts = 0;
        await using var harness = EngineHarness.Create(mesh => mesh
            .BindTaskSettings(configuration.GetSection("Tasks"))
            .AddTask<int>("flaky", task => task
                .ReadFrom(new ScriptedInput<int>())
                .Process(i => Interlocked.Increment(ref attempts) < 3 ? throw new InvalidOperationException("not yet") : i)));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("flaky", 5).Within("the run");

        result.Outcome.Should().Be(RunOutcome.Completed, "the third attempt, allowed by configuration only, succeeds");
        attempts.Should().Be(3);
    }

    [Fact]
    public void BindTaskSettings_BadValues_FailTogetherWithTheOtherProblemsNamingEachConfigurationPath()
    {
        var configuration = Configuration(new()
        {
            ["Meshinery:Tasks:enrich:MaxInFlight"] = "lots",
            ["Meshinery:Tasks:enrich:WorkerThreads"] = "0",
            ["Meshinery:Tasks:enrich:WorkerIdleTimeout"] = "-00:00:01",
            ["Meshinery:Tasks:enrich:Ordering"] = "Sorted",
            ["Meshinery:Tasks:enrich:Retry:Delay"] = "soon",
            ["Meshinery:Tasks:enrich:Retry:BackoffMultiplier"] = "0.5",
            ["Meshinery:Tasks:enrich:MaxInFligth"] = "5",
            ["Meshinery:Tasks:enrch:MaxInFlight"] = "5",
        });

        var error = CreationFails(mesh => mesh
            .BindTaskSettings(configuration.GetSection("Meshinery:Tasks"))
            .AddTask<int>("enrich", task => task.ReadFrom(new ScriptedInput<int>()))
            .AddTask<int>("no-input", task => task.Process(i => i)));

        error.Message.Should()
            .Contain("task 'enrich', setting Meshinery:Tasks:enrich:MaxInFlight: 'lots' is not a whole number")
            .And.Contain("task 'enrich', setting Meshinery:Tasks:enrich:WorkerThreads: must be at least 1 (was 0)")
            .And.Contain("setting Meshinery:Tasks:enrich:WorkerIdleTimeout: must be greater than zero (was -00:00:01)")
            .And.Contain("setting Meshinery:Tasks:enrich:Ordering: 'Sorted' is not an ordering; use Unordered, Key, Partition")
            .And.Contain("setting Meshinery:Tasks:enrich:Retry:Delay: 'soon' is not a duration")
            .And.Contain("setting Meshinery:Tasks:enrich:Retry:BackoffMultiplier: must be at least 1 (was 0.5)")
            .And.Contain("setting Meshinery:Tasks:enrich:MaxInFligth: is not a task setting")
            .And.Contain("Meshinery:Tasks:enrch: configures a task named 'enrch', but there is no such task (the tasks are 'enrich', 'no-input')")
            .And.Contain("task 'no-input', setting ReadFrom");
    }

    [Fact]
    public void BindTaskSettings_ValueThatConflictsWithTheDefinition_FailsNamingTheConfigurationPath()
    {
        var configuration = Configuration(new() { ["Meshinery:Tasks:elastic:MaxWorkerThreads"] = "2" });

        var error = CreationFails(mesh => mesh
            .BindTaskSettings(configuration.GetSection("Meshinery:Tasks"))
            .AddTask<int>("elastic", task => task.ReadFrom(new ScriptedInput<int>()).WithWorkerThreads(4, 8)));

        error.Setting.Should().Be("WorkerThreads");
        error.Message.Should().Contain("the maximum of an elastic pool must not be less than its minimum (was min 4, max 2) (set by configuration: Meshinery:Tasks:elastic:MaxWorkerThreads)");
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static MeshineryConfigurationException CreationFails(Action<MeshineryBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(configure);
        using var provider = services.BuildServiceProvider();
        var create = () => provider.GetRequiredService<MeshineryEngine>();
        return create.Should().Throw<MeshineryConfigurationException>().Which;
    }
}
