using System.Collections;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery;

/// <summary>
/// The ambient context of one run (one input item on its way through a task). Inside a step,
/// <see cref="Current"/> returns it on whatever thread the step runs, also after <c>await</c>s and inside fork
/// branches: the engine runs every step in the execution context of its run, carried by <see cref="AsyncLocal{T}"/>.
/// </summary>
/// <remarks>
/// The engine opens a logging scope for the run, so an <c>ILogger</c> used inside a step logs <c>TaskName</c>,
/// <c>RunId</c>, <c>Source</c>, <c>Partition</c>, <c>Offset</c> and the properties added with
/// <see cref="SetLogProperty"/>.
/// </remarks>
public sealed class TaskRunContext
{
    private static readonly AsyncLocal<TaskRunContext?> s_current = new();

    private List<KeyValuePair<string, object?>>? _logProperties;
    private RunScope? _scope;

    internal TaskRunContext(TaskData taskData, long runId, SourcePosition position, object? sourceRecord, CancellationToken cancellationToken, object? key = null)
    {
        TaskData = taskData;
        RunId = runId;
        Position = position;
        SourceRecord = sourceRecord;
        Key = key;
        CancellationToken = cancellationToken;
        LogScope = new RunLogScope(this);
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
    /// The source's record of the run's input item (<see cref="SourceItem{T}.SourceRecord"/>), or <see langword="null"/>:
    /// for a Kafka input, its <c>ConsumeResult&lt;byte[], byte[]&gt;</c> with the message's key, headers and timestamp.
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

    /// <summary>The state of the run's logging scope: its entries as a list of key/value pairs.</summary>
    internal IReadOnlyList<KeyValuePair<string, object?>> LogScope { get; }

    /// <summary>The properties added with <see cref="SetLogProperty"/>, or <see langword="null"/>.</summary>
    internal List<KeyValuePair<string, object?>>? LogProperties => Volatile.Read(ref _logProperties);

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

    /// <summary>Formats the run as the console logger shows its scope.</summary>
    /// <returns>For example <c>task=enrich run=42 orders[3]@1207</c>.</returns>
    public override string ToString() => LogScope.ToString()!;

    /// <summary>Sets the ambient run; the engine calls it while it builds the run's execution context.</summary>
    internal static void SetCurrent(TaskRunContext? context) => s_current.Value = context;

    /// <summary>The run's service scope, created by the first scoped step that needs it.</summary>
    internal AsyncServiceScope GetOrCreateScope(RunScopes scopes)
    {
        if (Volatile.Read(ref _scope) is { } existing)
        {
            return existing.Scope;
        }

        var created = new RunScope(scopes, scopes.CreateScope());
        if (Interlocked.CompareExchange(ref _scope, created, null) is { } raced)
        {
            created.Scope.Dispose(); // empty: nothing was resolved from it
            return raced.Scope;
        }

        return created.Scope;
    }

    /// <summary>Ends the run's service scope, if it has one: disposed in the background (see <see cref="RunScopes"/>).</summary>
    /// <param name="executionContext">The run's execution context, in which disposal runs.</param>
    internal void EndScope(ExecutionContext? executionContext)
    {
        if (Interlocked.Exchange(ref _scope, null) is { } scope)
        {
            scope.Owner.DisposeInBackground(scope.Scope, this, executionContext);
        }
    }

    private sealed record RunScope(RunScopes Owner, AsyncServiceScope Scope);
}

/// <summary>
/// The state of a run's logging scope: a list of key/value pairs (what structured log providers read) whose text is
/// what the console logger shows. It reads the run's context, so properties added later appear in it.
/// </summary>
internal sealed class RunLogScope(TaskRunContext run) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private const int FixedScopeEntries = 5;

    public int Count => FixedScopeEntries + (run.LogProperties?.Count ?? 0);

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("TaskName", run.TaskName),
        1 => new("RunId", run.RunId),
        2 => new("Source", run.Position.Source),
        3 => new("Partition", run.Position.Partition),
        4 => new("Offset", run.Position.Offset),
        _ => run.LogProperties is { } properties && index - FixedScopeEntries < properties.Count
            ? properties[index - FixedScopeEntries]
            : throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        var properties = run.LogProperties;
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

    public override string ToString()
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"task={run.TaskName} run={run.RunId} {run.Position}");
        var properties = run.LogProperties;
        return properties is null
            ? text
            : text + string.Concat(properties.Select(p => string.Create(CultureInfo.InvariantCulture, $" {p.Key}={p.Value}")));
    }
}
