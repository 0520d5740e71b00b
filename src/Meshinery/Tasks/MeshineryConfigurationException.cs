namespace Meshinery;

/// <summary>
/// Thrown at startup when a task or the engine is configured wrongly. The message names the task and the setting;
/// when there are several problems it lists them all.
/// </summary>
public sealed class MeshineryConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MeshineryConfigurationException()
        : this("Invalid Meshinery configuration.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public MeshineryConfigurationException(string message)
        : base(message)
    {
        Setting = string.Empty;
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public MeshineryConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Setting = string.Empty;
    }

    /// <summary>Creates the exception for one problem (for extensions that validate their own settings at startup).</summary>
    /// <param name="taskName">The task, or <see langword="null"/> for an engine-wide setting.</param>
    /// <param name="setting">The setting, for example <c>GroupId</c>.</param>
    /// <param name="problem">What is wrong with it, for example <c>is required</c>.</param>
    public MeshineryConfigurationException(string? taskName, string setting, string problem)
        : this([new ConfigurationProblem(taskName, setting, problem)])
    {
    }

    internal MeshineryConfigurationException(IReadOnlyList<ConfigurationProblem> problems)
        : base(FormatMessage(problems))
    {
        TaskName = problems[0].TaskName;
        Setting = problems[0].Setting;
    }

    /// <summary>The task of the (first) problem, or <see langword="null"/> for engine-wide settings.</summary>
    public string? TaskName { get; }

    /// <summary>The setting of the (first) problem, for example <c>MaxInFlight</c>.</summary>
    public string Setting { get; }

    private static string FormatMessage(IReadOnlyList<ConfigurationProblem> problems) =>
        problems.Count == 1
            ? $"Invalid Meshinery configuration: {problems[0]}"
            : "Invalid Meshinery configuration:" + string.Concat(problems.Select(p => Environment.NewLine + "- " + p));
}

/// <summary>One configuration problem: which task, which setting, what is wrong.</summary>
internal sealed record ConfigurationProblem(string? TaskName, string Setting, string Message)
{
    public override string ToString() =>
        TaskName is null ? $"{Setting}: {Message}." : $"task '{TaskName}', setting {Setting}: {Message}.";
}
