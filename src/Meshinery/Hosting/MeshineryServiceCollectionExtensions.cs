using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Meshinery;

/// <summary>Registers Meshinery with a service collection.</summary>
public static class MeshineryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the Meshinery engine, its options (validated when the application starts) and a hosted service that
    /// starts and stops it with the host. May be called more than once; tasks add up.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds tasks and configures options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddMeshinery(this IServiceCollection services, Action<MeshineryBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        if (!services.Any(d => d.ServiceType == typeof(MeshineryEngine)))
        {
            services.AddOptions<MeshineryOptions>()
                .Validate(o => o.MaxErrorBackoff >= o.ErrorBackoff, "MeshineryOptions.MaxErrorBackoff must not be less than MeshineryOptions.ErrorBackoff.")
                .ValidateOnStart();
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MeshineryOptions>, MeshineryOptionsValidator>());
            services.TryAddSingleton(TimeProvider.System);
            services.AddSingleton(new ServiceLifetimes(services));
            services.AddSingleton(sp => new MeshineryEngine(
                sp.GetServices<TaskRegistration>(),
                sp.GetRequiredService<IOptions<MeshineryOptions>>().Value,
                sp,
                sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetService<IMeterFactory>()));
            services.AddHostedService<MeshineryHostedService>();
        }

        configure(new MeshineryBuilder(services));
        return services;
    }
}
