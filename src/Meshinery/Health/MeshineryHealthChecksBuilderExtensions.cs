using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Meshinery;

/// <summary>Registers the Meshinery health check.</summary>
public static class MeshineryHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the Meshinery engine: unhealthy (<paramref name="failureStatus"/>) when the engine is not
    /// running (not yet started, stopping, stopped or faulted; a fatal error is the report's exception); degraded when
    /// an input that implements <see cref="IReportInputHealth"/> has held no partitions, or made no progress with items
    /// waiting, for longer than the thresholds, or lags more than <see cref="MeshineryHealthCheckOptions.MaxLag"/>. The
    /// report's description and data name the task and the input. Call <c>AddMeshinery</c> on the services as well.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="configure">Sets the thresholds; they are validated when the application starts.</param>
    /// <param name="name">The check's name. Default: <c>meshinery</c>.</param>
    /// <param name="failureStatus">The status when the engine is not running. Default: <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to select the check with (for example <c>ready</c>, <c>live</c>).</param>
    /// <returns>The builder.</returns>
    public static IHealthChecksBuilder AddMeshinery(
        this IHealthChecksBuilder builder,
        Action<MeshineryHealthCheckOptions>? configure = null,
        string name = "meshinery",
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = builder.Services.AddOptions<MeshineryHealthCheckOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<MeshineryHealthCheckOptions>>(new Validator(name));
        return builder.Add(new HealthCheckRegistration(
            name,
            services => new MeshineryHealthCheck(
                services.GetRequiredService<MeshineryEngine>(),
                services.GetRequiredService<IOptionsMonitor<MeshineryHealthCheckOptions>>().Get(name),
                services.GetRequiredService<TimeProvider>()),
            failureStatus,
            tags));
    }

    private static List<string> Validate(string name, MeshineryHealthCheckOptions options)
    {
        var problems = new List<string>();
        void Time(string setting, TimeSpan value)
        {
            if (value <= TimeSpan.Zero && value != Timeout.InfiniteTimeSpan)
            {
                problems.Add($"MeshineryHealthCheckOptions.{setting} of health check '{name}' must be greater than zero, or Timeout.InfiniteTimeSpan to switch it off (was {value})");
            }
        }

        Time(nameof(options.NoPartitionsTimeout), options.NoPartitionsTimeout);
        Time(nameof(options.NoProgressTimeout), options.NoProgressTimeout);
        if (options.MaxLag is <= 0)
        {
            problems.Add($"MeshineryHealthCheckOptions.MaxLag of health check '{name}' must be greater than zero, or null for no limit (was {options.MaxLag})");
        }

        return problems;
    }

    /// <summary>Validates the options of one named check, with a message per setting.</summary>
    private sealed class Validator(string name) : IValidateOptions<MeshineryHealthCheckOptions>
    {
        public ValidateOptionsResult Validate(string? optionsName, MeshineryHealthCheckOptions options)
        {
            if (!string.Equals(optionsName, name, StringComparison.Ordinal))
            {
                return ValidateOptionsResult.Skip;
            }

            var problems = MeshineryHealthChecksBuilderExtensions.Validate(name, options);
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}
