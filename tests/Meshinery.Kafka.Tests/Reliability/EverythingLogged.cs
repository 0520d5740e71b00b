using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// Records every log entry at every level with all it carries: the formatted message, each structured value, each
/// scope and the exception's full text. A secret must appear in none of them.
/// </summary>
public sealed class EverythingLogged : ILoggerProvider
{
    private readonly ConcurrentQueue<(EventId Event, string Text)> _entries = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _waiters = new();
    private readonly ConcurrentQueue<Func<EventId, bool>> _conditions = new();

    public IReadOnlyCollection<(EventId Event, string Text)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    /// <summary>Completes once an entry with the event id is logged.</summary>
    public Task LoggedAsync(int eventId)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_entries)
        {
            if (_entries.Any(e => e.Event.Id == eventId))
            {
                seen.SetResult();
                return seen.Task;
            }

            _conditions.Enqueue(e => e.Id == eventId);
            _waiters.Enqueue(seen);
        }

        return seen.Task;
    }

    public void Dispose()
    {
    }

    private void Add(EventId eventId, string text)
    {
        lock (_entries)
        {
            _entries.Enqueue((eventId, text));
            foreach (var (condition, waiter) in _conditions.Zip(_waiters))
            {
                if (condition(eventId))
                {
                    waiter.TrySetResult();
                }
            }
        }
    }

    private sealed class Recorder(EverythingLogged owner, string category) : ILogger
    {
        private readonly ConcurrentStack<string> _scopes = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            _scopes.Push(Render(state));
            return new Scope(_scopes);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(eventId, $"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} | {Render(state)} | scopes: {string.Join("; ", _scopes)} | {exception}");

        private static string Render(object? state) => state is IEnumerable<KeyValuePair<string, object?>> values
            ? string.Join(", ", values.Select(v => $"{v.Key}={v.Value}"))
            : state?.ToString() ?? string.Empty;

        private sealed class Scope(ConcurrentStack<string> scopes) : IDisposable
        {
            public void Dispose() => scopes.TryPop(out _);
        }
    }
}
