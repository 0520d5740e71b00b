using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Tasks;

/// <summary>
/// Task configurations are validated when the engine is created; a bad one fails with a
/// <see cref="MeshineryConfigurationException"/> that names the task and the setting.
/// </summary>
public class TaskValidationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("Orders")]
    [InlineData("enrich orders")]
    [InlineData("enrich/orders")]
    [InlineData("bestellungen-ü")]
    public void AddTask_InvalidName_FailsNamingTheNameSetting(string name)
    {
        var error = CreationFails(mesh => mesh.AddTask<int>(name, task => task.ReadFrom(new ScriptedInput<int>())));

        error.TaskName.Should().Be(name);
        error.Setting.Should().Be("Name");
        error.Message.Should().Contain($"'{name}' is not a valid task name");
    }

    [Fact]
    public void AddTask_NameLongerThan100Characters_Fails()
    {
        var name = new string('a', 101);

        var error = CreationFails(mesh => mesh.AddTask<int>(name, task => task.ReadFrom(new ScriptedInput<int>())));

        error.Setting.Should().Be("Name");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("enrich-orders_v2.eu")]
    [InlineData("0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789")]
    public async Task AddTask_ValidName_EngineIsCreated(string name)
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>(name, task => task.ReadFrom(new ScriptedInput<int>())));

        harness.Engine.TaskNames.Should().Equal(name);
    }

    [Fact]
    public void AddTask_DuplicateNames_FailsNamingTheTask()
    {
        var error = CreationFails(mesh => mesh
            .AddTask<int>("orders", task => task.ReadFrom(new ScriptedInput<int>()))
            .AddTask<string>("orders", task => task.ReadFrom(new ScriptedInput<string>())));

        error.TaskName.Should().Be("orders");
        error.Setting.Should().Be("Name");
        error.Message.Should().Contain("more than one task has this name");
    }

    [Fact]
    public void AddTask_NoInput_FailsNamingReadFrom()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("no-input", task => task.Process(i => i)));

        error.TaskName.Should().Be("no-input");
        error.Setting.Should().Be("ReadFrom");
        error.Message.Should().Contain("has no input");
    }

    [Fact]
    public void ReadFrom_SameSourceTwiceInOneTask_Fails()
    {
        var input = new ScriptedInput<int>();

        var error = CreationFails(mesh => mesh.AddTask<int>("twice", task => task.ReadFrom(input).ReadFrom(input)));

        error.Setting.Should().Be("ReadFrom");
        error.Message.Should().Contain("more than once");
    }

    [Fact]
    public void ReadFrom_SourceSharedByTwoTasks_Fails()
    {
        var input = new ScriptedInput<int>("shared-input");

        var error = CreationFails(mesh => mesh
            .AddTask<int>("first", task => task.ReadFrom(input))
            .AddTask<int>("second", task => task.ReadFrom(input)));

        error.Setting.Should().Be("ReadFrom");
        error.Message.Should().Contain("input 'shared-input' is also read by task(s) 'second'");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void WithMaxInFlight_NotPositive_FailsNamingMaxInFlight(int maxInFlight)
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("limit", task => task.ReadFrom(new ScriptedInput<int>()).WithMaxInFlight(maxInFlight)));

        error.TaskName.Should().Be("limit");
        error.Setting.Should().Be("MaxInFlight");
        error.Message.Should().Contain($"must be greater than 0 (was {maxInFlight})");
    }

    [Fact]
    public void WithWorkerThreads_Zero_FailsNamingWorkerThreads()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("threads", task => task.ReadFrom(new ScriptedInput<int>()).WithWorkerThreads(0)));

        error.Setting.Should().Be("WorkerThreads");
    }

    [Theory]
    [InlineData(0, 100, 1000, 2.0, "Retry.MaxAttempts")]
    [InlineData(3, -1, 1000, 2.0, "Retry.Delay")]
    [InlineData(3, 2000, 1000, 2.0, "Retry.MaxDelay")]
    [InlineData(3, 100, 1000, 0.5, "Retry.BackoffMultiplier")]
    [InlineData(3, 100, 1000, double.NaN, "Retry.BackoffMultiplier")]
    public void WithRetry_InvalidSetting_FailsNamingIt(int maxAttempts, int delayMs, int maxDelayMs, double multiplier, string setting)
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("retry", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithRetry(retry =>
            {
                retry.MaxAttempts = maxAttempts;
                retry.Delay = TimeSpan.FromMilliseconds(delayMs);
                retry.MaxDelay = TimeSpan.FromMilliseconds(maxDelayMs);
                retry.BackoffMultiplier = multiplier;
            })));

        error.TaskName.Should().Be("retry");
        error.Setting.Should().Be(setting);
    }

    [Fact]
    public void WithData_ReservedKey_FailsNamingData()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("data", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithData("meshinery.task.name", "spoofed")));

        error.Setting.Should().Be("Data");
        error.Message.Should().Contain("'meshinery.task.name' is reserved");
    }

    [Fact]
    public void Process_AfterBranch_FailsNamingSteps()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("after-branch", task =>
        {
            var builder = task.ReadFrom(new ScriptedInput<int>());
            builder.Branch(paths => paths.Otherwise(path => path.Process(i => i)));
            builder.Process(i => i + 1, "too-late");
        }));

        error.Setting.Should().Be("Steps");
        error.Message.Should().Contain("step 'too-late' follows a Branch");
    }

    [Fact]
    public void Branch_WithoutPaths_Fails()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("empty-branch", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Branch(_ => { }, "route")));

        error.Setting.Should().Be("Steps");
        error.Message.Should().Contain("branch 'route' has no path");
    }

    [Fact]
    public void ForkJoin_WithoutBranches_Fails()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("empty-fork", task => task
            .ReadFrom(new ScriptedInput<int>())
            .ForkJoin(Array.Empty<Func<int, CancellationToken, ValueTask<int>>>(), (i, results) => i, "fan-out")));

        error.Setting.Should().Be("Steps");
        error.Message.Should().Contain("fork 'fan-out' has no branch");
    }

    [Fact]
    public void Process_SyncStepReturningATask_FailsExplainingTheAsyncForm()
    {
        var error = CreationFails(mesh => mesh.AddTask<int>("task-returning", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => Task.FromResult(i), "fetch")));

        error.Setting.Should().Be("Steps");
        error.Message.Should().Contain("step 'fetch' returns a Task: an asynchronous step takes (item, cancellationToken)");
    }

    [Fact]
    public void AddTask_SeveralProblems_ListsThemAll()
    {
        var error = CreationFails(mesh => mesh
            .AddTask<int>("Bad Name", task => task.WithMaxInFlight(0))
            .AddTask<int>("other", task => task.ReadFrom(new ScriptedInput<int>()).WithRetry(0, TimeSpan.Zero)));

        error.TaskName.Should().Be("Bad Name", "the first problem is reported in the properties");
        error.Setting.Should().Be("Name");
        error.Message.Should().StartWith("Invalid Meshinery configuration:")
            .And.Contain("task 'Bad Name', setting Name")
            .And.Contain("task 'Bad Name', setting ReadFrom")
            .And.Contain("task 'Bad Name', setting MaxInFlight")
            .And.Contain("task 'other', setting Retry.MaxAttempts");
    }

    [Fact]
    public async Task AddTask_DefinitionNeedsServices_ReceivesTheApplicationsProvider()
    {
        var services = new ServiceCollection();
        var input = new ScriptedInput<int>();
        services.AddSingleton(input);
        IServiceProvider? seen = null;
        services.AddMeshinery(mesh => mesh.AddTask<int>("from-services", (provider, task) =>
        {
            seen = provider;
            task.ReadFrom(provider.GetRequiredService<ScriptedInput<int>>());
        }));
        await using var provider = services.BuildServiceProvider();

        _ = provider.GetRequiredService<MeshineryEngine>();

        seen.Should().NotBeNull();
        seen!.GetService<ScriptedInput<int>>().Should().BeSameAs(input);
    }

    [Fact]
    public void Builder_NullArguments_ThrowAtOnce()
    {
        var services = new ServiceCollection();
        var checks = new List<Action>();
        services.AddMeshinery(mesh => mesh.AddTask<int>("nulls", task =>
        {
            checks.Add(() => task.ReadFrom(null!));
            checks.Add(() => task.Process<int>((Func<int, int>)null!));
            checks.Add(() => task.Where(null!));
            checks.Add(() => task.Do((Action<int>)null!));
            checks.Add(() => task.OnError(null!));
            checks.Add(() => task.DeadLetterTo(null!));
            checks.Add(() => task.WriteTo(null!));
            checks.Add(() => task.WithRetry(null!));
            checks.Add(() => task.Branch(null!));
            checks.Add(() => task.WithData("", "value"));
            checks.Add(() => task.WithData("key", null!));
        }));

        var provider = services.BuildServiceProvider();
        var create = () => provider.GetRequiredService<MeshineryEngine>();
        create.Should().Throw<MeshineryConfigurationException>("the task has no input"); // the definition runs on creation

        checks.Should().HaveCount(11);
        checks.Should().AllSatisfy(check => check.Should().Throw<ArgumentException>());
    }

    [Fact]
    public void MeshineryConfigurationException_PublicConstructors_HaveNoTaskAndAnEmptySetting()
    {
        new MeshineryConfigurationException().Setting.Should().BeEmpty();
        new MeshineryConfigurationException("message").TaskName.Should().BeNull();
        var inner = new InvalidOperationException();
        new MeshineryConfigurationException("message", inner).InnerException.Should().BeSameAs(inner);
    }

    private static MeshineryConfigurationException CreationFails(Action<MeshineryBuilder> configure)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(configure);
        var provider = services.BuildServiceProvider();
        var create = () => provider.GetRequiredService<MeshineryEngine>();
        return create.Should().Throw<MeshineryConfigurationException>().Which;
    }
}
