using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Scopes;

/// <summary>
/// A scoped service resolved in a task's definition would be one instance for every run (silently, in Production,
/// where the container does not validate scopes): the engine refuses it at start, naming the service and the task.
/// </summary>
public class ScopedServiceInDefinitionTests
{
    [Fact]
    public void Definition_ResolvesAScopedService_FailsAtStartNamingTheServiceTheTaskAndTheScopedStep()
    {
        var error = CreationFails(
            services => services.AddScoped<IFraudCheck, FraudCheck>(),
            mesh => mesh.AddTask<int>("payments", (services, task) =>
            {
                var fraud = services.GetRequiredService<IFraudCheck>();
                task.ReadFrom(new ScriptedInput<int>()).Where(fraud.IsFine);
            }));

        error.TaskName.Should().Be("payments");
        error.Setting.Should().Be("Services");
        error.Message.Should().Contain("task 'payments'")
            .And.Contain("resolves IFraudCheck, which is registered as scoped")
            .And.Contain(".Process<IFraudCheck, TOut>((service, item) => ...)");
    }

    [Fact]
    public void Definition_ResolvesAScopedServiceAmongOthers_IsReportedWithTheOtherTasksProblems()
    {
        var error = CreationFails(
            services => services.AddScoped<IFraudCheck, FraudCheck>(),
            mesh => mesh
                .AddTask<int>("payments", (services, task) => task
                    .ReadFrom(new ScriptedInput<int>())
                    .Where(services.GetServices<IFraudCheck>().First().IsFine))
                .AddTask<int>("no-input", task => task.Process(i => i)));

        error.Message.Should().Contain("task 'payments', setting Services: the task's definition resolves IEnumerable<IFraudCheck>")
            .And.Contain("task 'no-input', setting ReadFrom");
    }

    [Fact]
    public async Task Definition_ResolvesSingletonsAndTransients_IsAllowed()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IFraudCheck, FraudCheck>();
        services.AddTransient<Clock>();
        services.AddMeshinery(mesh => mesh.AddTask<int>("fine", (sp, task) =>
        {
            var fraud = sp.GetRequiredService<IFraudCheck>();
            _ = sp.GetRequiredService<Clock>();
            _ = sp.GetRequiredService<TimeProvider>();
            task.ReadFrom(new ScriptedInput<int>()).Where(fraud.IsFine);
        }));
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<MeshineryEngine>().TaskNames.Should().Equal("fine");
    }

    [Fact]
    public async Task Definition_CreatesItsOwnScope_IsAllowed()
    {
        var services = new ServiceCollection();
        services.AddScoped<IFraudCheck, FraudCheck>();
        services.AddMeshinery(mesh => mesh.AddTask<int>("own-scope", (sp, task) =>
        {
            using var scope = sp.CreateScope(); // the user's own scope: resolving in it is not captured for every run
            _ = scope.ServiceProvider.GetRequiredService<IFraudCheck>();
            task.ReadFrom(new ScriptedInput<int>());
        }));
        await using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<MeshineryEngine>().TaskNames.Should().Equal("own-scope");
    }

    [Fact]
    public async Task Definition_KeepsTheProviderForItsSteps_ResolvingThereAfterTheStartIsLeftAlone()
    {
        var services = new ServiceCollection();
        services.AddScoped<IFraudCheck, FraudCheck>();
        services.AddMeshinery(mesh => mesh.AddTask<int>("kept-provider", (sp, task) => task
            .ReadFrom(new ScriptedInput<int>())
            .Process(i => sp.GetRequiredService<IFraudCheck>().IsFine(i))));
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync().Within("the engine to start");

        var result = await engine.InjectAsync("kept-provider", 3).Within("the run");

        result.Outcome.Should().Be(RunOutcome.Completed, "only the definition itself is checked; a running step is not failed");
        result.Output.Should().Be(true);
        await engine.StopAsync().Within("the engine to stop");
    }

    private static MeshineryConfigurationException CreationFails(Action<IServiceCollection> register, Action<MeshineryBuilder> configure)
    {
        var services = new ServiceCollection();
        register(services);
        services.AddMeshinery(configure);
        using var provider = services.BuildServiceProvider(); // Production: scopes are not validated
        var create = () => provider.GetRequiredService<MeshineryEngine>();
        return create.Should().Throw<MeshineryConfigurationException>().Which;
    }

    internal interface IFraudCheck
    {
        bool IsFine(int item);
    }

    internal sealed class FraudCheck : IFraudCheck
    {
        public bool IsFine(int item) => item >= 0;
    }

    internal sealed class Clock;
}
