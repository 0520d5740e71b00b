using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Support;

/// <summary>Records every log line and lets a test wait, with a deadline, for one that matches.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Category, string Message)> _records = new();
    private readonly List<(Func<LogLevel, string, bool> Match, TaskCompletionSource Seen)> _waiters = [];
    private readonly Lock _gate = new();

    public IReadOnlyCollection<(LogLevel Level, string Category, string Message)> Records => _records;

    public ILogger CreateLogger(string categoryName) => new Recorder(this, categoryName);

    public Task WaitForAsync(Func<LogLevel, string, bool> match)
    {
        lock (_gate)
        {
            if (_records.Any(r => match(r.Level, r.Message)))
            {
                return Task.CompletedTask;
            }

            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, seen));
            return seen.Task;
        }
    }

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string category, string message)
    {
        lock (_gate)
        {
            _records.Enqueue((level, category, message));
            foreach (var waiter in _waiters.Where(w => w.Match(level, message)).ToList())
            {
                waiter.Seen.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    private sealed class Recorder(RecordingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Add(logLevel, category, formatter(state, exception));
            }
        }
    }
}
