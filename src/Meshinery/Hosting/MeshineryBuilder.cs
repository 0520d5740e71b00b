using Microsoft.Extensions.Configuration;
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

    /// <summary>
    /// Binds per-task settings from configuration: <paramref name="tasks"/> has one child section per task name, for
    /// example <c>mesh.BindTaskSettings(builder.Configuration.GetSection("Meshinery:Tasks"))</c> with
    /// <c>Meshinery:Tasks:enrich:MaxInFlight</c> in <c>appsettings.json</c> or the environment variable
    /// <c>Meshinery__Tasks__enrich__MaxInFlight</c>. The keys are <c>MaxInFlight</c>, <c>WorkerThreads</c>,
    /// <c>MaxWorkerThreads</c>, <c>WorkerIdleTimeout</c>, <c>Ordering</c> and <c>Retry</c> (<c>MaxAttempts</c>,
    /// <c>Delay</c>, <c>BackoffMultiplier</c>, <c>MaxDelay</c>); see <c>docs/configuration.md</c>. A value present in
    /// configuration overrides what the task's definition set, so operators can tune without a new build. Read once,
    /// when the engine is created; a bad value, an unknown key or a section naming no task fails the start with a
    /// <see cref="MeshineryConfigurationException"/> naming the configuration path.
    /// </summary>
    /// <param name="tasks">The section whose children are named after the tasks.</param>
    /// <returns>This builder.</returns>
    public MeshineryBuilder BindTaskSettings(IConfiguration tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        Services.AddSingleton(new TaskSettingsSection(tasks));
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
