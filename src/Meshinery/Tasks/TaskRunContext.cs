using System.Collections;
using System.Globalization;

namespace Meshinery;

/// <summary>
/// The ambient context of one run (one input item on its way through a task). Inside a step,
/// <see cref="Current"/> returns it on whatever thread the step runs, also after <c>await</c>s and inside fork
/// branches: the engine runs every step in the execution context of its run, carried by <see cref="AsyncLocal{T}"/>.
/// </summary>
/// <remarks>
/// The same object is the state of the logging scope the engine opens for the run, so an <c>ILogger</c> used inside a
/// step logs <c>TaskName</c>, <c>RunId</c>, <c>Source</c>, <c>Partition</c>, <c>Offset</c> and the properties added
/// with <see cref="SetLogProperty"/>.
/// </remarks>
public sealed class TaskRunContext : IReadOnlyList<KeyValuePair<string, object?>>
{
    private static readonly AsyncLocal<TaskRunContext?> s_current = new();

    private const int FixedScopeEntries = 5;
    private List<KeyValuePair<string, object?>>? _logProperties;

    internal TaskRunContext(TaskData taskData, long runId, SourcePosition position, object? sourceRecord, CancellationToken cancellationToken, object? key = null)
    {
        TaskData = taskData;
        RunId = runId;
        Position = position;
        SourceRecord = sourceRecord;
        Key = key;
        CancellationToken = cancellationToken;
    }

    /// <summary>The context of the run whose step is executing on this execution flow, or <see langword="null"/>.</summary>
    public static TaskRunContext? Current => s_current.Value;

    /// <summary>The task's data.</summary>
    public TaskData TaskData { get; }

    /// <summary>The task's name.</summary>
    public string TaskName => TaskData.TaskName;

    /// <summary>The run's id, unique within the engine.</summary>
    public long RunId { get; }

    /// <summary>Where the run's input item came from.</summary>
    public SourcePosition Position { get; }

    /// <summary>
    /// The source's raw record of the run's input item, or <see langword="null"/>: for a Kafka input, its
    /// <c>ConsumeResult&lt;byte[], byte[]&gt;</c> with the message's key, headers and timestamp.
    /// </summary>
    public object? SourceRecord { get; }

    /// <summary>
    /// The key of the run's input item (<see cref="SourceItem{T}.Key"/>), or <see langword="null"/>: for a Kafka input,
    /// the message key's bytes.
    /// </summary>
    public object? Key { get; }

    /// <summary>The attempt of the current step: 1 for the first try, more when it is retried.</summary>
    public int Attempt { get; internal set; } = 1;

    /// <summary>Cancelled when the engine gives up on the run at shutdown.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>
    /// Adds a property to the run's logging scope (or replaces it), visible in every log written during this run from
    /// then on, also in later steps.
    /// </summary>
    /// <param name="key">The property name.</param>
    /// <param name="value">The value.</param>
    public void SetLogProperty(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);

        // Copy-on-write, so that a log provider enumerating the old list is unaffected; compare-exchange because fork
        // branches of one run may add properties concurrently.
        while (true)
        {
            var current = Volatile.Read(ref _logProperties);
            var copy = new List<KeyValuePair<string, object?>>((current?.Count ?? 0) + 1);
            if (current is not null)
            {
                copy.AddRange(current.Where(p => p.Key != key));
            }

            copy.Add(new KeyValuePair<string, object?>(key, value));
            if (Interlocked.CompareExchange(ref _logProperties, copy, current) == current)
            {
                return;
            }
        }
    }

    /// <summary>The number of logging scope entries.</summary>
    public int Count => FixedScopeEntries + (Volatile.Read(ref _logProperties)?.Count ?? 0);

    /// <summary>A logging scope entry.</summary>
    /// <param name="index">Its index.</param>
    /// <returns>The entry.</returns>
    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("TaskName", TaskName),
        1 => new("RunId", RunId),
        2 => new("Source", Position.Source),
        3 => new("Partition", Position.Partition),
        4 => new("Offset", Position.Offset),
        _ => Volatile.Read(ref _logProperties) is { } properties && index - FixedScopeEntries < properties.Count
            ? properties[index - FixedScopeEntries]
            : throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        var properties = Volatile.Read(ref _logProperties);
        for (var i = 0; i < FixedScopeEntries; i++)
        {
            yield return this[i];
        }

        if (properties is not null)
        {
            foreach (var property in properties)
            {
                yield return property;
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Formats the scope as the console logger shows it.</summary>
    /// <returns>For example <c>task=enrich run=42 orders[3]@1207</c>.</returns>
    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"task={TaskName} run={RunId} {Position}");
        var properties = Volatile.Read(ref _logProperties);
        return properties is null
            ? text
            : text + string.Concat(properties.Select(p => string.Create(CultureInfo.InvariantCulture, $" {p.Key}={p.Value}")));
    }

    /// <summary>Sets the ambient run; the engine calls it while it builds the run's execution context.</summary>
    internal static void SetCurrent(TaskRunContext? context) => s_current.Value = context;
}
