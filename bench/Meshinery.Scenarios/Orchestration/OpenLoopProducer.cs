using System.Diagnostics;
using Confluent.Kafka;
using Meshinery.Scenarios.Messages;

namespace Meshinery.Scenarios.Orchestration;

/// <summary>
/// The open-loop load: once started, writes <c>messages</c> inputs at a fixed rate on a thread of its own, whatever the
/// system does with them (the producer never waits for the system), each stamped with the time it was produced.
/// Sequence numbers start at <c>firstSequence</c> (priority: after the seeded backlog).
/// </summary>
internal sealed class OpenLoopProducer(string bootstrapServers, string topic, double ratePerSecond, long messages, long firstSequence = 0, IReadOnlyList<LoadStep>? steps = null) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _run;
    private long _produced;
    private double _seconds;

    public long Produced => Interlocked.Read(ref _produced);

    /// <summary>The rate achieved: messages / the time from the first to the last write.</summary>
    public double AchievedRate => _seconds > 0 ? Produced / _seconds : 0;

    public void Start() => _run ??= Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            await _run.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    private void Run()
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 1, // latency is measured from the produce call: the load must not arrive in bursts
            EnableIdempotence = true,
            ClientId = "open-loop",
        };
        using var producer = new ProducerBuilder<byte[], byte[]>(config).Build();
        var partition = new TopicPartition(topic, 0);
        var interval = Stopwatch.Frequency / ratePerSecond;
        var started = Stopwatch.GetTimestamp();
        long sequence = 0;
        while (sequence < messages && !_stop.IsCancellationRequested)
        {
            // Write every message whose time has come, then sleep about a millisecond: the rate holds on average and
            // no message is later than its schedule by more than the sleep's granularity.
            var due = Math.Min(messages, steps is null
                ? (long)((Stopwatch.GetTimestamp() - started) / interval) + 1
                : (long)DueByNow(steps, Stopwatch.GetElapsedTime(started).TotalSeconds) + 1);
            for (; sequence < due; sequence++)
            {
                var message = new Message<byte[], byte[]>
                {
                    Key = System.Text.Encoding.ASCII.GetBytes((firstSequence + sequence).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    Value = BenchMessage.CreateInput(firstSequence + sequence, Stopwatch.GetTimestamp()),
                };
                producer.Produce(partition, message);
                Interlocked.Increment(ref _produced);
            }

            producer.Poll(TimeSpan.Zero);
            Thread.Sleep(1);
        }

        _seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    /// <summary>Messages due after <paramref name="elapsed"/> seconds of a stepped load (the rate integrated over the steps).</summary>
    private static double DueByNow(IReadOnlyList<LoadStep> steps, double elapsed)
    {
        double due = 0;
        foreach (var step in steps)
        {
            var seconds = Math.Min(step.Seconds, elapsed);
            due += step.RatePerSecond * seconds;
            elapsed -= seconds;
            if (elapsed <= 0)
            {
                break;
            }
        }

        return due;
    }
}
