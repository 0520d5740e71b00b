using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Meshinery.Tests.Hosting;

/// <summary>What <c>AddMeshinery</c> registers.</summary>
public class ServiceCollectionTests
{
    [Fact]
    public async Task AddMeshinery_CalledTwice_TasksAddUpAndOneEngineAndHostedServiceAreRegistered()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("first", task => task.ReadFrom(new ScriptedInput<int>())));
        services.AddMeshinery(mesh => mesh
            .Configure(o => o.WorkerThreads = 3)
            .AddTask<int>("second", task => task.ReadFrom(new ScriptedInput<int>())));

        services.Count(d => d.ServiceType == typeof(MeshineryEngine)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        await using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<MeshineryEngine>().TaskNames.Should().BeEquivalentTo(["first", "second"]);
        provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<MeshineryOptions>>().Value.WorkerThreads.Should().Be(3);
    }

    [Fact]
    public async Task AddMeshinery_NoTimeProviderRegistered_UsesTheSystemClock()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(_ => { });
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(TimeProvider.System);
    }

    [Fact]
    public async Task AddMeshinery_TimeProviderRegisteredBefore_IsKept()
    {
        var time = new ManualTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddMeshinery(_ => { });
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<TimeProvider>().Should().BeSameAs(time);
    }

    [Fact]
    public async Task AddMeshinery_NoLoggingRegistered_EngineRunsWithoutLogs()
    {
        var input = new ScriptedInput<int>();
        input.Add(1, 2, 3);
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("no-logging", task => task
            .ReadFrom(input)
            .Process(i => i > 2 ? throw new InvalidOperationException("logged nowhere") : i)));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();

        await engine.StartAsync().Within("the engine to start");
        await input.WaitForAcknowledgementsAsync(3);
        await engine.StopAsync().Within("the engine to stop");

        input.OutcomeAt(2).Should().Be(RunOutcome.Failed);
    }

    [Fact]
    public void AddMeshinery_NullArguments_Throw()
    {
        var services = new ServiceCollection();

        var nullServices = () => MeshineryServiceCollectionExtensions.AddMeshinery(null!, _ => { });
        var nullConfigure = () => services.AddMeshinery(null!);
        var nullName = () => services.AddMeshinery(mesh => mesh.AddTask<int>(null!, _ => { }));
        var nullDefine = () => services.AddMeshinery(mesh => mesh.AddTask<int>("x", (Action<TaskBuilder<int, int>>)null!));
        var nullOptions = () => services.AddMeshinery(mesh => mesh.Configure(null!));

        nullServices.Should().Throw<ArgumentNullException>();
        nullConfigure.Should().Throw<ArgumentNullException>();
        nullName.Should().Throw<ArgumentNullException>();
        nullDefine.Should().Throw<ArgumentNullException>();
        nullOptions.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void MeshineryBuilder_Services_IsTheApplicationsCollection()
    {
        var services = new ServiceCollection();
        IServiceCollection? seen = null;

        services.AddMeshinery(mesh => seen = mesh.Services);

        seen.Should().BeSameAs(services);
    }

    [Fact]
    public async Task SourceContext_GivenToSources_CarriesTheEnginesServicesAndClock()
    {
        var time = new ManualTimeProvider();
        var input = new ScriptedInput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("context", task => task.ReadFrom(input)), timeProvider: time);

        await harness.StartAsync();

        var context = input.Context!;
        context.TaskName.Should().Be("context");
        context.TimeProvider.Should().BeSameAs(time);
        context.Services.GetRequiredService<MeshineryEngine>().Should().BeSameAs(harness.Engine, "the services are the application's");
        context.LoggerFactory.Should().NotBeNull();
        var report = () => context.ReportFatalError(null!);
        report.Should().Throw<ArgumentNullException>();
    }
}
