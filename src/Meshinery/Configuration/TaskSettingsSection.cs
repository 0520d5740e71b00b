using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery;

/// <summary>
/// Per-task settings from configuration (<see cref="MeshineryBuilder.BindTaskSettings"/>): one child section per task
/// name, for example <c>Meshinery:Tasks:enrich:MaxInFlight</c> (environment variable
/// <c>Meshinery__Tasks__enrich__MaxInFlight</c>). Read once, when the engine is created, after the task's definition:
/// a value present in configuration overrides the one the code set. A value that does not parse or is out of range,
/// an unknown key and a section for a task that does not exist are problems naming the configuration path, reported
/// with the engine's other configuration problems.
/// </summary>
internal sealed class TaskSettingsSection(IConfiguration tasks)
{
    /// <summary>The keys a task's section may have, as documented in <c>docs/configuration.md</c>.</summary>
    private static readonly string[] s_keys = ["MaxInFlight", "WorkerThreads", "MaxWorkerThreads", "WorkerIdleTimeout", "Ordering", "Retry"];

    private static readonly string[] s_retryKeys = ["MaxAttempts", "Delay", "BackoffMultiplier", "MaxDelay"];

    /// <summary>Applies the task's section, if there is one, to <paramref name="spec"/>; adds a problem per bad value.</summary>
    public void Apply(TaskSpec spec, List<ConfigurationProblem> problems)
    {
        var section = tasks.GetSection(spec.Name);
        if (!section.Exists())
        {
            return;
        }

        var reader = new Reader(spec, problems);
        foreach (var entry in section.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "MAXINFLIGHT":
                    reader.Int(entry, 1, "MaxInFlight", value => spec.MaxInFlight = value);
                    break;
                case "WORKERTHREADS":
                    reader.Int(entry, 1, "WorkerThreads", value => spec.WorkerThreads = value);
                    break;
                case "MAXWORKERTHREADS":
                    reader.Int(entry, 1, "WorkerThreads", value => spec.MaxWorkerThreads = value);
                    break;
                case "WORKERIDLETIMEOUT":
                    reader.Duration(entry, allowZero: false, "WorkerThreads", value => spec.WorkerIdleTimeout = value);
                    break;
                case "ORDERING":
                    reader.Ordering(entry);
                    break;
                case "RETRY":
                    ApplyRetry(entry, spec, reader);
                    break;
                default:
                    reader.Problem(entry, $"is not a task setting; the keys are {string.Join(", ", s_keys)} (Retry with {string.Join(", ", s_retryKeys)})");
                    break;
            }
        }

        if (spec.MaxWorkerThreads is not null && spec.WorkerThreads is null)
        {
            reader.Problem(section.GetSection("MaxWorkerThreads"), "an elastic pool needs its minimum too: set WorkerThreads (here or with WithWorkerThreads)");
        }
    }

    /// <summary>Adds a problem for every task section whose name is not one of <paramref name="taskNames"/>.</summary>
    public void FindUnknownTasks(IReadOnlyCollection<string> taskNames, List<ConfigurationProblem> problems)
    {
        foreach (var section in tasks.GetChildren().Where(s => !taskNames.Contains(s.Key, StringComparer.OrdinalIgnoreCase)))
        {
            var known = taskNames.Count == 0 ? "there are no tasks" : "the tasks are " + string.Join(", ", taskNames.Select(n => $"'{n}'"));
            problems.Add(new ConfigurationProblem(null, section.Path, $"configures a task named '{section.Key}', but there is no such task ({known})"));
        }
    }

    /// <summary>Adds the problems of every bound section that names no task.</summary>
    public static void FindUnknownTasks(IServiceProvider services, IReadOnlyCollection<string> taskNames, List<ConfigurationProblem> problems)
    {
        foreach (var section in services.GetServices<TaskSettingsSection>())
        {
            section.FindUnknownTasks(taskNames, problems);
        }
    }

    private static void ApplyRetry(IConfigurationSection retry, TaskSpec spec, Reader reader)
    {
        if (retry.Value is not null)
        {
            reader.Problem(retry, $"is a section with the keys {string.Join(", ", s_retryKeys)}, not a value");
            return;
        }

        foreach (var entry in retry.GetChildren())
        {
            switch (entry.Key.ToUpperInvariant())
            {
                case "MAXATTEMPTS":
                    reader.Int(entry, 1, "Retry.MaxAttempts", value => spec.Retry.MaxAttempts = value);
                    break;
                case "DELAY":
                    reader.Duration(entry, allowZero: true, "Retry.Delay", value => spec.Retry.Delay = value);
                    break;
                case "MAXDELAY":
                    reader.Duration(entry, allowZero: true, "Retry.MaxDelay", value => spec.Retry.MaxDelay = value);
                    break;
                case "BACKOFFMULTIPLIER":
                    reader.Double(entry, 1, "Retry.BackoffMultiplier", value => spec.Retry.BackoffMultiplier = value);
                    break;
                default:
                    reader.Problem(entry, $"is not a retry setting; the keys are {string.Join(", ", s_retryKeys)}");
                    break;
            }
        }
    }

    private delegate bool TryParse<TValue>(string text, out TValue value);

    /// <summary>Parses values (invariant culture, as the configuration binder does) and reports them by their path.</summary>
    private sealed class Reader(TaskSpec spec, List<ConfigurationProblem> problems)
    {
        public void Problem(IConfigurationSection entry, string message) =>
            problems.Add(new ConfigurationProblem(spec.Name, entry.Path, message));

        public void Int(IConfigurationSection entry, int minimum, string setting, Action<int> apply) =>
            Read(
                entry,
                setting,
                static (string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value),
                "is not a whole number",
                (value, _) => value < minimum ? $"must be at least {minimum} (was {value})" : null,
                apply);

        public void Double(IConfigurationSection entry, double minimum, string setting, Action<double> apply) =>
            Read(
                entry,
                setting,
                static (string text, out double value) =>
                    double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value),
                "is not a number (use a '.' for decimals, for example 1.5)",
                (value, text) => value < minimum ? $"must be at least {minimum.ToString(CultureInfo.InvariantCulture)} (was {text})" : null,
                apply);

        public void Duration(IConfigurationSection entry, bool allowZero, string setting, Action<TimeSpan> apply) =>
            Read(
                entry,
                setting,
                static (string text, out TimeSpan value) => TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value),
                "is not a duration (use [d.]hh:mm:ss[.fff], for example 00:00:00.500 for 500 ms)",
                (value, text) => value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero)
                    ? $"must be {(allowZero ? "zero or more" : "greater than zero")} (was {text})"
                    : null,
                apply);

        public void Ordering(IConfigurationSection entry) =>
            Read(
                entry,
                "Ordering",
                static (string text, out TaskOrdering value) =>
                {
                    // Names only: Enum.TryParse would also take "7".
                    var known = Enum.GetNames<TaskOrdering>().Contains(text, StringComparer.OrdinalIgnoreCase);
                    value = known ? Enum.Parse<TaskOrdering>(text, ignoreCase: true) : default;
                    return known;
                },
                $"is not an ordering; use {string.Join(", ", Enum.GetNames<TaskOrdering>())}",
                static (_, _) => null,

                // Key keeps the code's own key selector (OrderByKey(item => ...)), if it has one; else the source's key.
                ordering => spec.SetOrderingQuietly(ordering, ordering == TaskOrdering.Key && spec.Ordering == TaskOrdering.Key ? spec.OrderingKey : null));

        /// <summary>
        /// The one way every value is read: present and not empty, parsed (else <c>'text' {notParsed}</c>), in range
        /// (<paramref name="outOfRange"/> returns the problem, or <see langword="null"/>), then applied and recorded as
        /// set by its configuration path. Every problem names that path.
        /// </summary>
        private void Read<TValue>(
            IConfigurationSection entry,
            string setting,
            TryParse<TValue> parse,
            string notParsed,
            Func<TValue, string, string?> outOfRange,
            Action<TValue> apply)
        {
            if (Value(entry) is not { } text)
            {
                return;
            }

            if (!parse(text, out var value))
            {
                Problem(entry, $"'{text}' {notParsed}");
            }
            else if (outOfRange(value, text) is { } problem)
            {
                Problem(entry, problem);
            }
            else
            {
                apply(value);
                spec.ConfiguredBy[setting] = entry.Path;
            }
        }

        private string? Value(IConfigurationSection entry)
        {
            if (entry.Value is null)
            {
                Problem(entry, "must be a value, not a section");
                return null;
            }

            var text = entry.Value.Trim();
            if (text.Length == 0)
            {
                Problem(entry, "is empty");
                return null;
            }

            return text;
        }
    }
}
