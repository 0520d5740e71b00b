namespace Meshinery;

/// <summary>
/// A task's rate limit: at most <paramref name="Permits"/> items read (<see cref="TaskBuilder{TInput, T}.WithRateLimit"/>)
/// or processor steps started (<see cref="TaskBuilder{TInput, T}.WithStepRateLimit"/>) per <paramref name="Per"/>.
/// </summary>
/// <param name="Permits">Permits per period; also the largest burst.</param>
/// <param name="Per">The period.</param>
internal sealed record RateLimit(int Permits, TimeSpan Per)
{
    /// <summary>Reports what is wrong with the limit as <paramref name="problem"/>(<paramref name="setting"/>, message).</summary>
    public void Validate(string setting, Action<string, string> problem)
    {
        if (Permits <= 0)
        {
            problem(setting, $"the permits per period must be greater than 0 (was {Permits})");
        }

        if (Per <= TimeSpan.Zero)
        {
            problem(setting, $"the period must be greater than 0 (was {Per})");
        }
    }
}
