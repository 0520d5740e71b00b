using System.Text.RegularExpressions;

namespace Meshinery;

/// <summary>The mutable description a <see cref="TaskBuilder{TInput, T}"/> fills; <see cref="Build"/> validates and freezes it.</summary>
internal sealed partial class TaskSpec(string name, Type inputType)
{
    public const int MaxNameLength = 100;

    public string Name { get; } = name;

    public Type InputType { get; } = inputType;

    public List<InputBinding> Inputs { get; } = [];

    public PipelineSpec Root { get; } = new();

    /// <summary>Problems found while the builder was used (reported together with the others at build).</summary>
    public List<string> BuilderProblems { get; } = [];

    public int MaxInFlight { get; set; } = TaskDefinition.DefaultMaxInFlight;

    public int? WorkerThreads { get; set; }

    /// <summary>The most threads of an elastic pool (<see cref="WorkerThreads"/> is then its minimum).</summary>
    public int? MaxWorkerThreads { get; set; }

    public TimeSpan? WorkerIdleTimeout { get; set; }

    public Dictionary<string, string> Data { get; } = new(StringComparer.Ordinal);

    public RetryOptions Retry { get; set; } = new();

    public Func<ProcessingFailure, ErrorDecision>? ErrorHandler { get; set; }

    public OutputSink<ProcessingFailure>? DeadLetterSink { get; set; }

    public int StepCount { get; set; }

    public RateLimit? RateLimit { get; set; }

    public RateLimit? StepRateLimit { get; set; }

    public Func<TaskRun, bool>? PrioritySelector { get; set; }

    public int? ReservedWorkers { get; set; }

    /// <summary>The application's services (the real provider, not the guarded one definitions see), or <see langword="null"/>.</summary>
    public IServiceProvider? Services { get; set; }

    /// <summary>The task's run scopes, created with its first scoped step.</summary>
    private RunScopes? RunScopes { get; set; }

    /// <summary>Which settings configuration set, by setting name (as in problems) and configuration path.</summary>
    public Dictionary<string, string> ConfiguredBy { get; } = new(StringComparer.Ordinal);

    public RunScopes? GetRunScopes() => RunScopes ??= Services is null ? null : new RunScopes(Services, Name);

    public TaskOrdering Ordering { get; private set; }

    public Func<TaskRun, object?>? OrderingKey { get; private set; }

    private List<string> OrderingCalls { get; } = [];

    /// <summary>Records an ordering call; more than one is reported at build.</summary>
    public void SetOrdering(TaskOrdering ordering, Func<TaskRun, object?>? key, string call)
    {
        OrderingCalls.Add(call);
        SetOrderingQuietly(ordering, key);
    }

    /// <summary>Sets the ordering without counting a call (configuration overrides what the code set).</summary>
    public void SetOrderingQuietly(TaskOrdering ordering, Func<TaskRun, object?>? key)
    {
        Ordering = ordering;
        OrderingKey = key;
    }

    /// <summary>Validates the task; returns its definition, or <see langword="null"/> after adding its problems to <paramref name="problems"/>.</summary>
    public TaskDefinition? Build(List<ConfigurationProblem> problems)
    {
        var before = problems.Count;
        void Problem(string setting, string message) => problems.Add(new ConfigurationProblem(
            Name, setting, ConfiguredBy.TryGetValue(setting, out var path) ? $"{message} (set by configuration: {path})" : message));

        if (!ValidName().IsMatch(Name))
        {
            Problem("Name", $"'{Name}' is not a valid task name: use 1 to {MaxNameLength} characters from [a-z0-9._-]");
        }

        if (Inputs.Count == 0)
        {
            Problem("ReadFrom", "the task has no input; call ReadFrom at least once");
        }

        if (Inputs.Select(i => i.Source).Distinct().Count() != Inputs.Count)
        {
            Problem("ReadFrom", "the same input source is added more than once");
        }

        if (MaxInFlight <= 0)
        {
            Problem("MaxInFlight", $"must be greater than 0 (was {MaxInFlight})");
        }

        if (WorkerThreads is <= 0)
        {
            Problem("WorkerThreads", $"must be greater than 0 (was {WorkerThreads})");
        }

        if (MaxWorkerThreads is { } max && WorkerThreads is { } min && max < min)
        {
            Problem("WorkerThreads", $"the maximum of an elastic pool must not be less than its minimum (was min {min}, max {max})");
        }

        if (WorkerIdleTimeout is { } idle && idle <= TimeSpan.Zero)
        {
            Problem("WorkerThreads", $"the idle timeout of an elastic pool must be greater than 0 (was {idle})");
        }

        ValidateRetry(Problem);

        RateLimit?.Validate("RateLimit", Problem);
        StepRateLimit?.Validate("StepRateLimit", Problem);

        if (ReservedWorkers is { } reserved)
        {
            if (reserved <= 0)
            {
                Problem("ReservedWorkers", $"must be greater than 0 (was {reserved})");
            }
            else if (WorkerThreads is not { } threads)
            {
                Problem("ReservedWorkers", "reserved workers are taken out of the task's own pool: call WithWorkerThreads too");
            }
            else if (reserved >= threads)
            {
                Problem("ReservedWorkers", $"must be less than WorkerThreads ({threads}), so that normal items keep a worker (was {reserved})");
            }

            if (PrioritySelector is null && !Inputs.Any(i => i.IsHighPriority))
            {
                Problem("ReservedWorkers", "nothing is high priority: add WithPriority or ReadPriorityFrom");
            }
        }

        if (OrderingCalls.Count > 1)
        {
            Problem("Ordering", $"the ordering is set more than once ({string.Join(", then ", OrderingCalls)}); a task has one ordering");
        }

        if (!Enum.IsDefined(Ordering))
        {
            Problem("Ordering", $"'{Ordering}' is not a TaskOrdering value");
        }

        foreach (var key in Data.Keys.Where(k => k.StartsWith("meshinery.", StringComparison.Ordinal)))
        {
            Problem("Data", $"the key '{key}' is reserved: keys starting with 'meshinery.' belong to the framework");
        }

        foreach (var message in BuilderProblems)
        {
            Problem("Steps", message);
        }

        var root = Root.Build();
        foreach (var message in root.AllSteps().Select(s => s.Validate()).OfType<string>())
        {
            Problem("Steps", message);
        }

        if (problems.Count > before)
        {
            return null;
        }

        var data = new Dictionary<string, string>(Data, StringComparer.Ordinal)
        {
            [TaskData.TaskNameKey] = Name,
            [TaskData.ProcessorCountKey] = root.AllSteps().Count(s => s.IsProcessor).ToString(System.Globalization.CultureInfo.InvariantCulture),
            [TaskData.MaxInFlightKey] = MaxInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        return new TaskDefinition(
            Name, InputType, [.. Inputs], root, MaxInFlight, WorkerThreads, new TaskData(data), Retry.Clone(), ErrorHandler, DeadLetterSink,
            Ordering, OrderingKey, RateLimit, PrioritySelector, ReservedWorkers is > 0 ? ReservedWorkers.Value : 0,
            MaxWorkerThreads, WorkerIdleTimeout, RunScopes, StepRateLimit);
    }

    private void ValidateRetry(Action<string, string> problem)
    {
        if (Retry.MaxAttempts < 1)
        {
            problem("Retry.MaxAttempts", $"must be at least 1 (was {Retry.MaxAttempts})");
        }

        if (Retry.Delay < TimeSpan.Zero)
        {
            problem("Retry.Delay", $"must not be negative (was {Retry.Delay})");
        }

        if (Retry.MaxDelay < Retry.Delay)
        {
            problem("Retry.MaxDelay", $"must not be less than Retry.Delay (was {Retry.MaxDelay}, delay {Retry.Delay})");
        }

        if (!(Retry.BackoffMultiplier >= 1))
        {
            problem("Retry.BackoffMultiplier", $"must be at least 1 (was {Retry.BackoffMultiplier})");
        }
    }

    [GeneratedRegex("^[a-z0-9._-]{1,100}$")]
    private static partial Regex ValidName();
}

/// <summary>The steps of one pipeline while it is being built.</summary>
internal sealed class PipelineSpec
{
    private readonly List<Step> _steps = [];

    public bool IsClosed { get; private set; }

    /// <summary>Adds a step; returns a problem description when the pipeline is already closed by a branch.</summary>
    public string? Add(Step step)
    {
        if (IsClosed)
        {
            return $"step '{step.Name}' follows a Branch or a FlatMap, which end their pipeline; add the step inside the branch paths, or on the builder FlatMap returns";
        }

        _steps.Add(step);
        return null;
    }

    public void Close() => IsClosed = true;

    public Pipeline Build() => new([.. _steps]);
}
