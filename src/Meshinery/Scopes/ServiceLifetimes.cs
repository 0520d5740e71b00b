using Microsoft.Extensions.DependencyInjection;

namespace Meshinery;

/// <summary>
/// The lifetimes of the application's registrations, read from its service collection (the built provider does not
/// tell them): what lets a task's definition be refused a scoped service. Registered by <c>AddMeshinery</c>; the
/// collection is read when the engine is created, by then complete.
/// </summary>
internal sealed class ServiceLifetimes(IServiceCollection services)
{
    private Dictionary<Type, ServiceLifetime>? _lifetimes;

    /// <summary>Whether the registration that resolving <paramref name="serviceType"/> uses is scoped.</summary>
    public bool IsScoped(Type serviceType)
    {
        var lifetimes = _lifetimes ??= Read(services);
        if (lifetimes.TryGetValue(serviceType, out var lifetime))
        {
            return lifetime == ServiceLifetime.Scoped;
        }

        if (serviceType.IsConstructedGenericType)
        {
            var definition = serviceType.GetGenericTypeDefinition();
            if (definition == typeof(IEnumerable<>))
            {
                // Every registration of the element type is resolved: one scoped among them is captured too.
                var element = serviceType.GenericTypeArguments[0];
                return services.Any(d => !d.IsKeyedService && d.ServiceType == element && d.Lifetime == ServiceLifetime.Scoped)
                    || (element.IsConstructedGenericType && IsScoped(element));
            }

            return lifetimes.TryGetValue(definition, out var open) && open == ServiceLifetime.Scoped;
        }

        return false;
    }

    /// <summary>Whether the keyed registration of <paramref name="serviceType"/> under <paramref name="key"/> is scoped.</summary>
    public bool IsScoped(Type serviceType, object? key) =>
        services.LastOrDefault(d => d.IsKeyedService && d.ServiceType == serviceType && Equals(d.ServiceKey, key))?.Lifetime == ServiceLifetime.Scoped;

    private static Dictionary<Type, ServiceLifetime> Read(IServiceCollection services)
    {
        var lifetimes = new Dictionary<Type, ServiceLifetime>();
        foreach (var descriptor in services.Where(d => !d.IsKeyedService))
        {
            lifetimes[descriptor.ServiceType] = descriptor.Lifetime; // the last registration wins, as in resolution
        }

        return lifetimes;
    }
}

/// <summary>
/// The services a task's definition sees: the application's, except that resolving a scoped service fails. Resolved
/// there, it would be created once, from the root provider, and serve every run (silently in Production, where scopes
/// are not validated); a step takes it from the run's scope instead.
/// </summary>
internal sealed class DefinitionServices(IServiceProvider services, ServiceLifetimes lifetimes, string taskName)
    : IServiceProvider, IKeyedServiceProvider
{
    private bool _defined;

    /// <summary>The scoped services the definition tried to resolve.</summary>
    public List<ConfigurationProblem> Problems { get; } = [];

    /// <summary>
    /// Ends the check: a step that kept this provider and resolves from it per item is left as it was (a captive
    /// dependency too, but one the start cannot see; failing those runs now would change a running application).
    /// </summary>
    public void DefinitionEnded() => _defined = true;

    public object? GetService(Type serviceType)
    {
        Refuse(serviceType, lifetimes.IsScoped(serviceType), null);
        return services.GetService(serviceType);
    }

    public object? GetKeyedService(Type serviceType, object? serviceKey)
    {
        Refuse(serviceType, lifetimes.IsScoped(serviceType, serviceKey), serviceKey);
        return services is IKeyedServiceProvider keyed
            ? keyed.GetKeyedService(serviceType, serviceKey)
            : throw new InvalidOperationException("The application's service provider does not support keyed services.");
    }

    public object GetRequiredKeyedService(Type serviceType, object? serviceKey)
    {
        Refuse(serviceType, lifetimes.IsScoped(serviceType, serviceKey), serviceKey);
        return services is IKeyedServiceProvider keyed
            ? keyed.GetRequiredKeyedService(serviceType, serviceKey)
            : throw new InvalidOperationException("The application's service provider does not support keyed services.");
    }

    private void Refuse(Type serviceType, bool scoped, object? key)
    {
        if (!scoped || _defined)
        {
            return;
        }

        var name = TypeNames.Of(serviceType);
        var keyed = key is null ? "" : $" (key '{key}')";
        Problems.Add(new ConfigurationProblem(
            taskName,
            "Services",
            $"the task's definition resolves {name}{keyed}, which is registered as scoped: resolved there it would be one instance for every run; take it in a step instead, from a scope per run: .Process<{name}, TOut>((service, item) => ...) or .Do<{name}>((service, item) => ...)"));
        throw new ScopedServiceInDefinitionException(Problems[^1].ToString());
    }
}

/// <summary>Stops a task's definition at its first scoped service; the problem is reported with the others.</summary>
internal sealed class ScopedServiceInDefinitionException(string message) : InvalidOperationException(message);
