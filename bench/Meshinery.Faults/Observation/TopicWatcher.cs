using System.Collections.Concurrent;
using System.Text.Json;
using Confluent.Kafka;
using Meshinery.Faults.Cluster;
using Meshinery.Faults.Processes;

namespace Meshinery.Faults.Observation;

/// <summary>
/// One message on the output or dead-letter topic: when the watcher saw it (<paramref name="At"/>, run clock) and when
/// its producer wrote it (<paramref name="WrittenAt"/>, the message's create time, UTC, millisecond resolution).
/// </summary>
internal sealed record Observed(TimeSpan At, DateTime WrittenAt, bool DeadLetter, string Key, string? EnrichedBy, int SourcePartition, long SourceOffset);

/// <summary>
/// Reads the output and dead-letter topics from the beginning for the whole run (no group, nothing committed), with
/// reconnect backoffs of at most 100 ms so that its own recovery after a broker outage does not hide the sample's.
/// It can be paused (<see cref="Pause"/>) while a measurement must not share the machine with its fetches: the embedded
/// broker finds a fetch's offset by walking the partition's log from its start, so reading a long output log costs it
/// more with every message.
/// </summary>
internal sealed class TopicWatcher : IDisposable
{
    private readonly IConsumer<string, string> _consumer;
    private readonly ConcurrentQueue<Observed> _seen = new();
    private readonly ConcurrentDictionary<TopicPartition, long> _next = new();
    private readonly Topics _topics;
    private readonly RunClock _clock;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly List<TopicPartition> _partitions;
    private volatile bool _pauseRequested;
    private bool _paused;
    private long _outputs;
    private long _deadLetters;

    public TopicWatcher(string bootstrapServers, Topics topics, RunClock clock, string? debug = null, Action<string>? log = null)
    {
        _topics = topics;
        _clock = clock;
        _consumer = ClientLogs.Route(new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "faults-watcher", // required by the client; never joined, never committed
            EnableAutoCommit = false,
            FetchWaitMaxMs = 50,
            ReconnectBackoffMs = 10,
            ReconnectBackoffMaxMs = 100,
            Debug = debug,
        }), "watcher", log).SetErrorHandler((_, _) => { }).Build(); // outages are the point; the scenario logs them itself
        _partitions = Enumerable.Range(0, topics.Partitions).Select(p => new TopicPartition(topics.Output, p))
            .Append(new TopicPartition(topics.DeadLetters, 0)).ToList();
        _consumer.Assign(_partitions.Select(p => new TopicPartitionOffset(p, Offset.Beginning)));
        _thread = new Thread(Run) { IsBackground = true, Name = "faults-watcher" };
        _thread.Start();
    }

    public long Outputs => Interlocked.Read(ref _outputs);

    public long DeadLetters => Interlocked.Read(ref _deadLetters);

    public IReadOnlyCollection<Observed> Seen => _seen;

    /// <summary>Stops fetching (within the consume timeout, 100 ms) until <see cref="Resume"/>; what was fetched is still read.</summary>
    public void Pause() => _pauseRequested = true;

    /// <summary>Fetches again from where it stopped.</summary>
    public void Resume() => _pauseRequested = false;

    /// <summary>The first output or dead letter seen at or after <paramref name="after"/>.</summary>
    public TimeSpan? FirstAfter(TimeSpan after) => _seen.Where(o => o.At >= after).Select(o => (TimeSpan?)o.At).FirstOrDefault();

    /// <summary>Outputs per second between two moments.</summary>
    public double Rate(TimeSpan from, TimeSpan to) =>
        to <= from ? 0 : _seen.Count(o => !o.DeadLetter && o.At >= from && o.At < to) / (to - from).TotalSeconds;

    /// <summary>Whether the watcher has read every partition up to <paramref name="ends"/> (each partition's end offset).</summary>
    public bool HasRead(IReadOnlyDictionary<TopicPartition, long> ends) =>
        ends.All(e => e.Value == 0 || _next.GetValueOrDefault(e.Key) >= e.Value);

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join();
        _consumer.Close();
        _consumer.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_pauseRequested != _paused)
            {
                // The consumer is used from this thread only.
                _paused = _pauseRequested;
                if (_paused)
                {
                    _consumer.Pause(_partitions);
                }
                else
                {
                    _consumer.Resume(_partitions);
                }
            }

            ConsumeResult<string, string>? result;
            try
            {
                result = _consumer.Consume(TimeSpan.FromMilliseconds(100));
            }
            catch (ConsumeException)
            {
                continue; // broker trouble: the client reconnects by itself
            }

            if (result?.Message is null)
            {
                continue;
            }

            _next[result.TopicPartition] = result.Offset.Value + 1;
            var deadLetter = result.Topic == _topics.DeadLetters;
            if (deadLetter)
            {
                Interlocked.Increment(ref _deadLetters);
                _seen.Enqueue(new Observed(_clock.Now, result.Message.Timestamp.UtcDateTime, true, result.Message.Key, null, -1, -1));
                continue;
            }

            Interlocked.Increment(ref _outputs);
            using var json = JsonDocument.Parse(result.Message.Value);
            var root = json.RootElement;
            _seen.Enqueue(new Observed(
                _clock.Now,
                result.Message.Timestamp.UtcDateTime,
                false,
                result.Message.Key,
                root.GetProperty("enrichedBy").GetString(),
                root.GetProperty("sourcePartition").GetInt32(),
                root.GetProperty("sourceOffset").GetInt64()));
        }
    }
}
