using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// One collector instance's state: a <see cref="GroupTable"/> per assigned partition of the internal topic (restored
/// from the changelog on assignment, dropped on revocation) and the deadlines of its groups. Services (clock, logger,
/// meter) come from whichever of the collector's sources or sinks the engine starts first.
/// </summary>
internal sealed class CollectorState : IDisposable
{
    private readonly ConcurrentDictionary<int, GroupTable> _tables = new();
    private readonly Lock _startLock = new();
    private ChangelogRestorer? _restorer;
    private Exception? _restoreFailure;

    public CollectorState(GroupCollectorOptions options)
    {
        Options = options;
        Expiries = new ExpirySource($"{options.Name}.expiries", Initialize);
    }

    public GroupCollectorOptions Options { get; }

    public ExpirySource Expiries { get; }

    public TimeProvider Time { get; private set; } = TimeProvider.System;

    public ILogger Logger { get; private set; } = NullLogger.Instance;

    public CollectorMetrics Metrics { get; private set; } = null!;

    /// <summary>Idempotent: the first caller's context wins.</summary>
    public void Initialize(SourceContext context)
    {
        lock (_startLock)
        {
            if (Metrics is not null)
            {
                return;
            }

            Time = context.TimeProvider;
            Logger = context.LoggerFactory.CreateLogger("Meshinery.Kafka.GroupCollector");
            Metrics = new CollectorMetrics(Options.Name, context.Services.GetService<IMeterFactory>());
            _restorer = new ChangelogRestorer(Options, context, Metrics, Logger);
        }
    }

    public GroupTable? Table(int partition) => _tables.GetValueOrDefault(partition);

    /// <summary>
    /// Why a partition could not be restored (then the instance must apply no event any more), or <see langword="null"/>.
    /// Set on the consume thread before any message of the partition is read; read by the engine's poll loop.
    /// </summary>
    public Exception? RestoreFailure => Volatile.Read(ref _restoreFailure);

    /// <summary>
    /// Called by the internal topic's input on its consume thread, before it reads those partitions. Never throws: an
    /// exception out of a rebalance handler leaves the assignment unacknowledged, and under the cooperative protocol
    /// librdkafka then never lets the consumer close (its Dispose waits for ever). A failure is kept in
    /// <see cref="RestoreFailure"/> and returned instead; the partitions after it are not restored.
    /// </summary>
    public Exception? OnAssigned(IReadOnlyList<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            if (RestoreFailure is { } earlier)
            {
                return earlier;
            }

            var table = new GroupTable(partition.Partition.Value, Options, Metrics, Logger);
            try
            {
                _restorer!.Restore(table);
            }
            catch (Exception error)
            {
                CollectorLog.RestoreFailed(Logger, error, Options.Name, table.Partition);
                Interlocked.CompareExchange(ref _restoreFailure, error, null);
                return RestoreFailure;
            }

            Metrics.AddOpen(table.OpenCount);
            var now = Time.GetUtcNow();
            foreach (var group in table.Groups)
            {
                Expiries.Set(group.Id, group.Deadline(Options, now));
            }

            _tables[table.Partition] = table;
        }

        return null;
    }

    /// <summary>Called after the partitions' runs ended and their offsets were committed: the next owner restores them.</summary>
    public void OnRevoked(IReadOnlyList<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            if (!_tables.TryRemove(partition.Partition.Value, out var table))
            {
                continue;
            }

            lock (table.Gate)
            {
                foreach (var group in table.Groups)
                {
                    Expiries.Remove(group.Id);
                }

                Metrics.AddOpen(-table.OpenCount);
                CollectorLog.Dropped(Logger, Options.Name, table.Partition, table.OpenCount);
            }
        }
    }

    public void Dispose()
    {
        Expiries.Dispose();
        Metrics?.Dispose();
    }
}
