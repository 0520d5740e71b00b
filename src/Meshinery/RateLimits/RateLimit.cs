namespace Meshinery;

/// <summary>A task's rate limit: at most <paramref name="Permits"/> items read per <paramref name="Per"/> (see <see cref="TaskBuilder{TInput, T}.WithRateLimit"/>).</summary>
/// <param name="Permits">Items per period; also the largest burst.</param>
/// <param name="Per">The period.</param>
internal sealed record RateLimit(int Permits, TimeSpan Per);
