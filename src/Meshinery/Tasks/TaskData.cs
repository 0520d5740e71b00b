using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Meshinery;

/// <summary>
/// The read-only key/value data of a task: entries the framework sets (task name, processor count, in-flight
/// limit) and entries the user adds with <see cref="TaskBuilder{TInput, T}.WithData"/>. Inside every step it is
/// available as <see cref="Current"/>, on whatever thread the step runs.
/// </summary>
[SuppressMessage("Naming", "CA1710:Identifiers should have correct suffix", Justification = "TaskData is the framework's name for a task's configuration.")]
public sealed class TaskData : IReadOnlyDictionary<string, string>
{
    /// <summary>The key of the task's name.</summary>
    public const string TaskNameKey = "meshinery.task.name";

    /// <summary>The key of the number of processors (steps) of the task.</summary>
    public const string ProcessorCountKey = "meshinery.task.processors";

    /// <summary>The key of the task's in-flight limit.</summary>
    public const string MaxInFlightKey = "meshinery.task.max_in_flight";

    private readonly FrozenDictionary<string, string> _entries;

    internal TaskData(IEnumerable<KeyValuePair<string, string>> entries)
    {
        _entries = entries.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>The data of the task whose step is running on this execution flow, or <see langword="null"/> outside a step.</summary>
    public static TaskData? Current => TaskRunContext.Current?.TaskData;

    /// <summary>The task's name.</summary>
    public string TaskName => _entries[TaskNameKey];

    /// <inheritdoc/>
    public int Count => _entries.Count;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => _entries.Keys;

    /// <inheritdoc/>
    public IEnumerable<string> Values => _entries.Values;

    /// <inheritdoc/>
    public string this[string key] => _entries.TryGetValue(key, out var value)
        ? value
        : throw new KeyNotFoundException($"Task '{TaskName}' has no data entry '{key}'.");

    /// <inheritdoc/>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out string value) => _entries.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_entries).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
