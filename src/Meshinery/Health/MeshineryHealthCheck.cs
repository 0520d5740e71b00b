using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Meshinery;

/// <summary>
/// Reports the engine unhealthy (the registration's failure status) unless it is running, and degraded when an input
/// that implements <see cref="IReportInputHealth"/> breaks one of <see cref="InputHealthRules"/>. The report's data
/// holds the engine's state under <c>engine</c> and one entry per reporting input under <c>task/input</c>.
/// </summary>
internal sealed class MeshineryHealthCheck(MeshineryEngine engine, MeshineryHealthCheckOptions options, TimeProvider timeProvider) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var state = engine.State;
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["engine"] = state.ToString() };
        if (state != MeshineryEngineState.Running)
        {
            var error = state == MeshineryEngineState.Faulted ? engine.Completion.Exception?.GetBaseException() : null;
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, $"The Meshinery engine is {Describe(state)}.", error, data));
        }

        var now = timeProvider.GetUtcNow();
        var problems = new List<string>();
        foreach (var (task, input) in TaskDefinitionReader.Inputs(engine))
        {
            if (input is not IReportInputHealth reporter)
            {
                continue;
            }

            var snapshot = reporter.GetHealthSnapshot();
            var problem = InputHealthRules.Judge(snapshot, options, now);
            data[$"{task}/{input.Name}"] = problem ?? InputHealthRules.Describe(snapshot);
            if (problem is not null)
            {
                problems.Add($"task '{task}' input '{input.Name}': {problem}");
            }
        }

        return Task.FromResult(problems.Count == 0
            ? HealthCheckResult.Healthy("The Meshinery engine is running.", data)
            : HealthCheckResult.Degraded(string.Join("; ", problems), data: data));
    }

    private static string Describe(MeshineryEngineState state) => state switch
    {
        MeshineryEngineState.NotStarted => "not started",
        MeshineryEngineState.Starting => "starting",
        MeshineryEngineState.Stopping => "stopping",
        MeshineryEngineState.Stopped => "stopped",
        _ => "faulted",
    };
}
