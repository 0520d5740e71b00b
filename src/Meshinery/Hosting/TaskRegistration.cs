using Microsoft.Extensions.DependencyInjection;

namespace Meshinery;

/// <summary>A task as registered with <see cref="MeshineryBuilder.AddTask{TInput}(string, Action{IServiceProvider, TaskBuilder{TInput, TInput}})"/>: built when the engine is created.</summary>
internal sealed class TaskRegistration(string name, Type inputType, Action<IServiceProvider, TaskSpec> define)
{
    public string Name { get; } = name;

    public TaskDefinition? Build(IServiceProvider services, List<ConfigurationProblem> problems)
    {
        var spec = new TaskSpec(Name, inputType) { Services = services };
        var guarded = services.GetService<ServiceLifetimes>() is { } lifetimes ? new DefinitionServices(services, lifetimes, Name) : null;
        try
        {
            define(guarded ?? services, spec);
        }
        catch (ScopedServiceInDefinitionException)
        {
            // Reported below; the rest of the definition cannot run without the service.
        }
        finally
        {
            guarded?.DefinitionEnded();
        }

        if (guarded is { Problems.Count: > 0 })
        {
            problems.AddRange(guarded.Problems);
            return null;
        }

        var before = problems.Count;
        foreach (var settings in services.GetServices<TaskSettingsSection>())
        {
            settings.Apply(spec, problems); // configuration overrides what the definition set
        }

        var definition = spec.Build(problems);
        return problems.Count > before ? null : definition;
    }
}
