namespace Meshinery.Tests.Tasks;

/// <summary>A task's read-only data: framework entries plus the user's, ambient inside every step.</summary>
public class TaskDataTests
{
    [Fact]
    public async Task Current_InsideAStep_HasFrameworkAndUserEntries()
    {
        var data = await CaptureAsync(task => task
            .WithData("tenant", "acme")
            .WithData("region", "eu")
            .WithData("region", "us") // the last value wins
            .WithMaxInFlight(42));

        data.TaskName.Should().Be("data");
        data[TaskData.TaskNameKey].Should().Be("data");
        data[TaskData.MaxInFlightKey].Should().Be("42");
        data[TaskData.ProcessorCountKey].Should().Be("3", "the capture step, a filter and a side effect are processors; outputs are not");
        data["tenant"].Should().Be("acme");
        data["region"].Should().Be("us");
        data.Count.Should().Be(5);
        data.Keys.Should().BeEquivalentTo([TaskData.TaskNameKey, TaskData.MaxInFlightKey, TaskData.ProcessorCountKey, "tenant", "region"]);
        data.Values.Should().Contain(["acme", "us"]);
        data.Should().Contain(new KeyValuePair<string, string>("tenant", "acme"));
        data.ContainsKey("tenant").Should().BeTrue();
        data.TryGetValue("missing", out _).Should().BeFalse();
        data.TryGetValue("tenant", out var tenant).Should().BeTrue();
        tenant.Should().Be("acme");
    }

    [Fact]
    public async Task Indexer_MissingKey_ThrowsNamingTaskAndKey()
    {
        var data = await CaptureAsync(task => task);

        var read = () => data["tenant"];

        read.Should().Throw<KeyNotFoundException>().WithMessage("Task 'data' has no data entry 'tenant'.");
    }

    [Fact]
    public async Task Keys_AreCaseSensitive()
    {
        var data = await CaptureAsync(task => task.WithData("Tenant", "acme"));

        data.ContainsKey("tenant").Should().BeFalse();
        data.ContainsKey("Tenant").Should().BeTrue();
    }

    [Fact]
    public void Current_OutsideAStep_IsNull()
    {
        TaskData.Current.Should().BeNull();
    }

    private static async Task<TaskData> CaptureAsync(Func<TaskBuilder<int, int>, TaskBuilder<int, int>> configure)
    {
        TaskData? captured = null;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("data", task => configure(task
            .ReadFrom(new ScriptedInput<int>()))
            .Process(i =>
            {
                captured = TaskData.Current;
                return i;
            })
            .Where(_ => true)
            .Do(_ => { })
            .WriteTo(new InMemoryOutput<int>())));
        await harness.StartAsync();

        await harness.Engine.InjectAsync("data", 1).Within("the injected run");

        return captured ?? throw new InvalidOperationException("the step saw no task data");
    }
}
