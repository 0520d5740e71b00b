using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka;

/// <summary>Every log message of the Kafka package, in one place.</summary>
internal static partial class KafkaLog
{
    [LoggerMessage(100, LogLevel.Information, "Kafka input '{Input}' (group '{GroupId}') was assigned {Count} partition(s): {Partitions}")]
    public static partial void PartitionsAssigned(ILogger logger, string input, string groupId, int count, string partitions);

    [LoggerMessage(101, LogLevel.Information, "Kafka input '{Input}' gives up {Count} partition(s) ({Abandoned} run(s) still in flight will be redelivered to the next owner): {Partitions}")]
    public static partial void PartitionsRevoked(ILogger logger, string input, int count, int abandoned, string partitions);

    [LoggerMessage(102, LogLevel.Warning, "Kafka input '{Input}' lost {Count} partition(s) without a chance to commit; their in-flight messages will be redelivered: {Partitions}")]
    public static partial void PartitionsLost(ILogger logger, string input, int count, string partitions);

    [LoggerMessage(103, LogLevel.Warning, "Committing offsets of Kafka input '{Input}' failed; retrying at the next commit")]
    public static partial void CommitFailed(ILogger logger, Exception exception, string input);

    [LoggerMessage(104, LogLevel.Warning, "Kafka client '{Client}' reports {Code}: {Reason} (it keeps retrying; check that the brokers {BootstrapServers} are reachable)")]
    public static partial void ClientError(ILogger logger, string client, ErrorCode code, string reason, string bootstrapServers);

    [LoggerMessage(105, LogLevel.Critical, "Kafka client '{Client}' reports a fatal error {Code}: {Reason}")]
    public static partial void FatalClientError(ILogger logger, string client, ErrorCode code, string reason);

    [LoggerMessage(115, LogLevel.Critical, "Kafka input '{Input}': its {Callback} callback threw; the engine stops")]
    public static partial void PartitionCallbackFailed(ILogger logger, Exception exception, string input, string callback);

    [LoggerMessage(106, LogLevel.Warning, "Kafka input '{Input}' failed to consume; retrying")]
    public static partial void ConsumeFailed(ILogger logger, Exception exception, string input);

    [LoggerMessage(107, LogLevel.Debug, "Kafka input '{Input}' paused {Partition}: {Pending} message(s) pending")]
    public static partial void PartitionPaused(ILogger logger, string input, string partition, int pending);

    [LoggerMessage(108, LogLevel.Debug, "Kafka input '{Input}' resumed {Partition}: {Pending} message(s) pending")]
    public static partial void PartitionResumed(ILogger logger, string input, string partition, int pending);

    [LoggerMessage(109, LogLevel.Debug, "Kafka input '{Input}' skipped {Partition}@{Offset}, which it had read already")]
    public static partial void DuplicateSkipped(ILogger logger, string input, string partition, long offset);

    [LoggerMessage(110, LogLevel.Information, "Kafka input '{Input}' stopped; last committed offsets: {Offsets}")]
    public static partial void InputStopped(ILogger logger, string input, string offsets);

    [LoggerMessage(EventId = 111, Message = "librdkafka {Facility} ({Client}): {Message}")]
    public static partial void LibrdkafkaLog(ILogger logger, LogLevel level, string facility, string client, string message);

    [LoggerMessage(112, LogLevel.Warning, "Kafka input '{Input}' waited {Timeout} for {Count} in-flight run(s) of revoked partitions; letting them go")]
    public static partial void RevocationTimedOut(ILogger logger, string input, TimeSpan timeout, int count);

    [LoggerMessage(113, LogLevel.Information, "Kafka input '{Input}' committed the finished offsets of the partitions it lets go ({Attempts} attempt(s)): {Committed}")]
    public static partial void LastCommitSucceeded(ILogger logger, string input, int attempts, string committed);

    [LoggerMessage(114, LogLevel.Warning, "Kafka input '{Input}' could not commit {NotCommitted} for the partitions it lets go ({Code}: {Reason}; {Attempts} attempt(s)); the next owner redoes them from their last committed offsets. Committed: {Committed}")]
    public static partial void LastCommitFailed(ILogger logger, string input, string notCommitted, ErrorCode code, string reason, int attempts, string committed);

    [LoggerMessage(116, LogLevel.Critical, "Kafka input '{Input}': its commit thread failed; the engine stops")]
    public static partial void CommitThreadFailed(ILogger logger, Exception exception, string input);
}
