namespace Meshinery;

/// <summary>
/// An input that yields a <see cref="TimerTick"/> on a schedule: every fixed interval (<see cref="Every"/>) or on a
/// cron expression in a time zone (<see cref="Cron"/>). It runs on the engine's <see cref="TimeProvider"/>.
/// </summary>
/// <remarks>
/// <para>
/// Ticks never queue. When an occurrence comes while the task cannot take it (its in-flight limit is reached, for
/// example by a previous tick that is still running with <c>WithMaxInFlight(1)</c>), or the process was held up,
/// the next poll yields one tick for the latest occurrence that is due and counts the others in
/// <see cref="TimerTick.Missed"/>. Occurrences before the engine started are not ticked. Ticks need no
/// acknowledgement: nothing is redelivered after a failure or a restart.
/// </para>
/// <para>
/// The settings are checked when the engine starts: an interval that is not positive, a cron expression that does not
/// parse or a time zone this machine does not know fails the start with a <see cref="MeshineryConfigurationException"/>
/// naming the task and the setting (<c>Interval</c>, <c>Cron</c>, <c>TimeZone</c>).
/// </para>
/// </remarks>
public sealed class TimerInput : InputSource<TimerTick>
{
    private readonly Func<string, (Schedule? Schedule, string? Setting, string? Problem)> _createSchedule;
    private readonly Lock _lock = new();
    private Schedule? _schedule;
    private SourceContext? _context;
    private ITimer? _timer;
    private DateTimeOffset? _nextDue;
    private long _sequence;

    private TimerInput(string name, Func<string, (Schedule?, string?, string?)> createSchedule)
        : base(name) => _createSchedule = createSchedule;

    /// <summary>Creates an input that ticks every <paramref name="interval"/>, the first time one interval after the engine started.</summary>
    /// <param name="interval">The interval; must be greater than zero (checked at start, setting <c>Interval</c>).</param>
    /// <param name="name">The source's name. Default: <c>timer</c>.</param>
    /// <returns>The input.</returns>
    public static TimerInput Every(TimeSpan interval, string name = "timer") =>
        new(name, _ => interval > TimeSpan.Zero
            ? (new IntervalSchedule(interval), null, null)
            : (null, "Interval", $"timer '{name}' needs an interval greater than zero (was {interval})"));

    /// <summary>Creates an input that ticks on a cron expression, evaluated in a time zone.</summary>
    /// <param name="expression">
    /// Five fields (minute hour day-of-month month day-of-week, for example <c>0 9 * * MON-FRI</c>) or six with seconds
    /// first (<c>*/10 * * * * *</c>), as Cronos reads them. Checked at start (setting <c>Cron</c>).
    /// </param>
    /// <param name="timeZone">
    /// An IANA or Windows time-zone id such as <c>Europe/Berlin</c>; default UTC. Checked at start (setting <c>TimeZone</c>).
    /// Daylight saving follows Cronos: a time the clock skips fires right after the change; a time the clock repeats
    /// fires once, unless the expression steps through hours or minutes (<c>*/30 * * * *</c>), which fires in both.
    /// </param>
    /// <param name="name">The source's name. Default: <c>cron</c>.</param>
    /// <returns>The input.</returns>
    public static TimerInput Cron(string expression, string? timeZone = null, string name = "cron")
    {
        ArgumentNullException.ThrowIfNull(expression);
        return new(name, _ =>
        {
            if (!CronSchedule.TryParse(expression, out var cron, out var problem))
            {
                return (null, "Cron", $"timer '{name}': {problem}");
            }

            if (!TryFindZone(timeZone, out var zone))
            {
                return (null, "TimeZone", $"timer '{name}': '{timeZone}' is not a time zone this machine knows (use an id such as 'Europe/Berlin' or 'UTC')");
            }

            return (new CronSchedule(cron!, zone!), null, null);
        });
    }

    /// <summary>When the next tick is due, or <see langword="null"/> before the start or when the schedule has no further occurrence.</summary>
    public DateTimeOffset? NextDue
    {
        get
        {
            lock (_lock)
            {
                return _nextDue;
            }
        }
    }

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (schedule, setting, problem) = _createSchedule(context.TaskName);
        if (schedule is null)
        {
            throw new MeshineryConfigurationException(context.TaskName, setting!, problem!);
        }

        lock (_lock)
        {
            _context = context;
            _schedule = schedule;
            _timer = context.TimeProvider.CreateTimer(static s => ((SourceContext)s!).NotifyItemsAvailable(), context, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _nextDue = schedule.Next(context.TimeProvider.GetUtcNow());
            Arm();
        }

        return default;
    }

    /// <inheritdoc/>
    public override int Poll(Span<SourceItem<TimerTick>> buffer)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        lock (_lock)
        {
            if (_context is null || _nextDue is not { } due)
            {
                return 0;
            }

            var now = _context.TimeProvider.GetUtcNow();
            if (now < due)
            {
                Arm(); // a timer that fired a little early, or an idle poll: make sure the timer stays armed
                return 0;
            }

            var (latest, skipped) = _schedule!.CatchUp(due, now);
            var tick = new TimerTick(latest, ++_sequence, skipped);
            buffer[0] = new SourceItem<TimerTick>(tick, new SourcePosition(Name, 0, tick.Sequence));
            _nextDue = _schedule.Next(latest);
            Arm();
            return 1;
        }
    }

    /// <inheritdoc/>
    public override ValueTask StopAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _timer?.Dispose();
            _timer = null;
            _nextDue = null;
        }

        return default;
    }

    private static bool TryFindZone(string? id, out TimeZoneInfo? zone)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            zone = id is null ? TimeZoneInfo.Utc : null;
            return zone is not null;
        }

        return TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone);
    }

    /// <summary>Arms the timer for the next occurrence (under the lock).</summary>
    private void Arm()
    {
        if (_timer is null || _context is null)
        {
            return;
        }

        var clock = _context.TimeProvider;
        if (_nextDue is not { } due)
        {
            _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        var now = clock.GetUtcNow();
        _timer.Change(due > now ? due - now : TimeSpan.Zero, Timeout.InfiniteTimeSpan);

        // The clock may have passed the occurrence between the read above and the arm (a fake clock advanced by a test
        // does exactly that), and then the timer waits one interval too long: wake the poll loop ourselves.
        if (clock.GetUtcNow() >= due)
        {
            _context.NotifyItemsAvailable();
        }
    }
}
