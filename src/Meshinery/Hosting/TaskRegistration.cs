namespace Meshinery;

/// <summary>A task as registered with <see cref="MeshineryBuilder.AddTask{TInput}(string, Action{IServiceProvider, TaskBuilder{TInput, TInput}})"/>: built when the engine is created.</summary>
internal sealed class TaskRegistration(string name, Type inputType, Action<IServiceProvider, TaskSpec> define)
{
    public string Name { get; } = name;

    public TaskDefinition? Build(IServiceProvider services, List<ConfigurationProblem> problems)
    {
        var spec = new TaskSpec(Name, inputType);
        define(services, spec);
        return spec.Build(problems);
    }
}
