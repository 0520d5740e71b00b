namespace Meshinery;

/// <summary>The item a <see cref="TimerInput"/> yields: one occurrence of its schedule.</summary>
/// <param name="ScheduledAt">
/// The occurrence this tick stands for, with the schedule's time-zone offset (for a cron schedule in
/// <c>Europe/Berlin</c>, <c>+01:00</c> in winter and <c>+02:00</c> in summer). The run starts at or after it.
/// </param>
/// <param name="Sequence">1 for the input's first tick, then one more per tick.</param>
/// <param name="Missed">
/// How many earlier occurrences passed without a tick of their own because the task was busy or the process was held
/// up: ticks do not queue, the latest due occurrence stands for them.
/// </param>
public readonly record struct TimerTick(DateTimeOffset ScheduledAt, long Sequence, long Missed);
