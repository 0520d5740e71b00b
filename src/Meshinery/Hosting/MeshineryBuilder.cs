using Microsoft.Extensions.DependencyInjection;

namespace Meshinery;

/// <summary>Configures Meshinery inside <see cref="MeshineryServiceCollectionExtensions.AddMeshinery"/>: engine options and tasks.</summary>
public sealed class MeshineryBuilder
{
    internal MeshineryBuilder(IServiceCollection services) => Services = services;

    /// <summary>The application's services, for extensions (such as Kafka) that register their own.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Configures the engine's options (see <see cref="MeshineryOptions"/> for defaults).</summary>
    /// <param name="configure">Sets the options.</param>
    /// <returns>This builder.</returns>
    public MeshineryBuilder Configure(Action<MeshineryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.Configure(configure);
        return this;
    }

    /// <summary>Adds a task.</summary>
    /// <typeparam name="TInput">The type of the task's input items.</typeparam>
    /// <param name="name">The task's unique name: 1 to 100 characters from <c>[a-z0-9._-]</c>.</param>
    /// <param name="define">Declares the task's inputs, steps, outputs and settings.</param>
    /// <returns>This builder.</returns>
    public MeshineryBuilder AddTask<TInput>(string name, Action<TaskBuilder<TInput, TInput>> define)
    {
        ArgumentNullException.ThrowIfNull(define);
        return AddTask<TInput>(name, (_, task) => define(task));
    }

    /// <summary>Adds a task whose definition needs the application's services (called once, when the engine is created).</summary>
    /// <typeparam name="TInput">The type of the task's input items.</typeparam>
    /// <param name="name">The task's unique name: 1 to 100 characters from <c>[a-z0-9._-]</c>.</param>
    /// <param name="define">Declares the task's inputs, steps, outputs and settings.</param>
    /// <returns>This builder.</returns>
    public MeshineryBuilder AddTask<TInput>(string name, Action<IServiceProvider, TaskBuilder<TInput, TInput>> define)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(define);
        Services.AddSingleton(new TaskRegistration(
            name, typeof(TInput), (services, spec) => define(services, new TaskBuilder<TInput, TInput>(spec, spec.Root))));
        return this;
    }
}
