using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>
/// Handles what a Kafka client (consumer or producer) reports on its own: librdkafka's log lines go to
/// <see cref="ILogger"/>, errors are logged (each kind at most every 30 s: librdkafka repeats connection errors while a
/// broker is down), and a fatal error stops the engine.
/// </summary>
internal sealed class ClientEvents(ILogger logger, SourceContext context, string bootstrapServers)
{
    private static readonly TimeSpan s_errorLogInterval = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<ErrorCode, long> _lastLogged = new();

    public void OnError(string client, Error error)
    {
        if (error.IsFatal)
        {
            KafkaLog.FatalClientError(logger, client, error.Code, error.Reason);
            context.ReportFatalError(new KafkaException(error));
            return;
        }

        var time = context.TimeProvider;
        var now = time.GetTimestamp();
        var last = _lastLogged.GetOrAdd(error.Code, 0);
        if (last == 0 || time.GetElapsedTime(last, now) >= s_errorLogInterval)
        {
            _lastLogged[error.Code] = now;
            KafkaLog.ClientError(logger, client, error.Code, error.Reason, bootstrapServers);
        }
    }

    public void OnLog(LogMessage message)
    {
        var level = message.Level switch
        {
            SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical or SyslogLevel.Error => LogLevel.Error,
            SyslogLevel.Warning => LogLevel.Warning,
            SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
            _ => LogLevel.Debug,
        };
        KafkaLog.LibrdkafkaLog(logger, level, message.Facility, message.Name, message.Message);
    }
}
