using System.Threading.Channels;
using Confluent.Kafka;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Messages;
using Meshinery.Scenarios.Orchestration;

namespace Meshinery.Scenarios.Systems;

/// <summary>
/// KafkaFlow's model: one consumer thread routes each message by the hash of its key to one of N workers; each worker
/// has a bounded queue (<see cref="BufferSize"/>, as in KafkaFlow's samples) and handles its messages one after the
/// other: the work, then the output, awaited until the broker acknowledges it. When a worker's queue is full, the
/// consumer waits for it (head-of-line blocking). Offsets are committed per partition up to the oldest unfinished
/// message, every <see cref="ClientSettings.CommitInterval"/> and at the end.
/// </summary>
/// <remarks>
/// Workers are async loops on the .NET thread pool, as in KafkaFlow. A blocking handler holds a pool thread, so for
/// blocking work the pool's minimum is raised to the worker count (what a KafkaFlow user with blocking handlers has to
/// do). Keys are hashed with FNV-1a; KafkaFlow's default (the sum of the key's bytes) spreads short numeric keys over
/// few workers and would look worse.
/// </remarks>
internal sealed class KeyHashWorkersSystem : BenchSystem
{
    public const int BufferSize = 100;

    private readonly BenchMessageDeserializer _deserializer;
    private readonly Channel<WorkItem>[] _queues;
    private readonly PartitionProgress[] _progress;
    private readonly List<Task> _workers = [];
    private IProducer<byte[]?, byte[]>? _producer;
    private Thread? _consumeThread;
    private Exception? _consumeError;
    private volatile bool _stopping;
    private int _assigned;

    public KeyHashWorkersSystem(RunSpec spec, RunProbe probe)
        : base(spec, probe)
    {
        _deserializer = new BenchMessageDeserializer(probe);
        _queues = new Channel<WorkItem>[spec.Concurrency];
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i] = Channel.CreateBounded<WorkItem>(new BoundedChannelOptions(BufferSize) { SingleReader = true, SingleWriter = true });
        }

        _progress = new PartitionProgress[spec.Partitions];
        for (var i = 0; i < _progress.Length; i++)
        {
            _progress[i] = new PartitionProgress();
        }
    }

    public override bool IsReady => Volatile.Read(ref _assigned) > 0;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (Spec.Kind == WorkKind.Blocking)
        {
            ThreadPool.GetMinThreads(out var workers, out var completionPorts);
            ThreadPool.SetMinThreads(Math.Max(workers, Spec.Concurrency + 8), completionPorts);
        }

        _producer = new ProducerBuilder<byte[]?, byte[]>(BaselineProducerConfig()).Build();
        foreach (var queue in _queues)
        {
            _workers.Add(Task.Run(() => RunWorkerAsync(queue.Reader), CancellationToken.None));
        }

        _consumeThread = new Thread(ConsumeLoop) { IsBackground = true, Name = "khw-consumer" };
        _consumeThread.Start();
        return Task.CompletedTask;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        await Task.Run(() => _consumeThread?.Join(), cancellationToken).ConfigureAwait(false);
        if (_consumeError is not null)
        {
            throw new InvalidOperationException("The consumer loop failed.", _consumeError);
        }
    }

    private void ConsumeLoop()
    {
        try
        {
            using var consumer = new ConsumerBuilder<byte[], byte[]>(BaselineConsumerConfig())
                .SetPartitionsAssignedHandler((_, partitions) => Interlocked.Add(ref _assigned, partitions.Count))
                .Build();
            consumer.Subscribe(Spec.InputTopic);
            var nextCommit = DateTime.UtcNow + ClientSettings.CommitInterval;
            while (!_stopping)
            {
                var result = consumer.Consume(ClientSettings.PollTimeout);
                if (result is not null && !result.IsPartitionEOF)
                {
                    Dispatch(result);
                }

                if (DateTime.UtcNow >= nextCommit)
                {
                    Commit(consumer);
                    nextCommit = DateTime.UtcNow + ClientSettings.CommitInterval;
                }
            }

            // Let the workers finish what they were given, then commit it.
            foreach (var queue in _queues)
            {
                queue.Writer.TryComplete();
            }

            if (!Task.WaitAll([.. _workers], TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("The workers did not finish within 30 s of the stop.");
            }

            _producer!.Flush(TimeSpan.FromSeconds(30));
            Commit(consumer);
            consumer.Close();
            _producer.Dispose();
        }
        catch (Exception error)
        {
            _consumeError = error;
        }
    }

    private void Dispatch(ConsumeResult<byte[], byte[]> result)
    {
        var message = _deserializer.Deserialize(
            result.Message.Value, result.Message.Value is null, new SerializationContext(MessageComponentType.Value, result.Topic));
        var partition = result.Partition.Value;
        _progress[partition].Track(result.Offset.Value);
        var item = new WorkItem(partition, result.Offset.Value, message, result.Message.Key);
        var writer = _queues[WorkerOf(result.Message.Key)].Writer;
        while (!writer.TryWrite(item))
        {
            // The worker's queue is full: the whole consumer waits for that one worker.
            if (!writer.WaitToWriteAsync().AsTask().GetAwaiter().GetResult())
            {
                return;
            }
        }
    }

    private int WorkerOf(byte[]? key)
    {
        var hash = 2166136261u;
        foreach (var b in key ?? [])
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash % (uint)_queues.Length);
    }

    private async Task RunWorkerAsync(ChannelReader<WorkItem> reader)
    {
        var token = CancellationToken.None;
        while (await reader.WaitToReadAsync(token).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                await WorkAsync(token).ConfigureAwait(false);
                try
                {
                    await _producer!.ProduceAsync(
                        Spec.OutputTopic, new Message<byte[]?, byte[]> { Key = item.Key, Value = item.Message.ToOutput() }, token).ConfigureAwait(false);
                    Probe.MarkAcked();
                }
                catch (ProduceException<byte[]?, byte[]> error)
                {
                    Probe.MarkFailed(error.Error.Reason);
                }

                _progress[item.Partition].Complete(item.Offset);
            }
        }
    }

    private void Commit(IConsumer<byte[], byte[]> consumer)
    {
        var offsets = new List<TopicPartitionOffset>();
        for (var partition = 0; partition < _progress.Length; partition++)
        {
            if (_progress[partition].TakeCommit() is { } offset)
            {
                offsets.Add(new TopicPartitionOffset(Spec.InputTopic, partition, offset));
            }
        }

        if (offsets.Count > 0)
        {
            consumer.Commit(offsets);
        }
    }

    // The input key goes with the output, as Meshinery's output writes it by default (partitioning kept): keyed writes
    // cost the producer more (a batch per output partition, where keyless ones stick to one partition at a time).
    private readonly record struct WorkItem(int Partition, long Offset, BenchMessage Message, byte[]? Key);

    /// <summary>The committable offset of one partition whose messages finish out of order (offsets are contiguous).</summary>
    private sealed class PartitionProgress
    {
        private readonly Lock _gate = new();
        private readonly HashSet<long> _finishedAhead = [];
        private long _lowestUnfinished = -1;
        private long _lastCommitted = -1;

        public void Track(long offset)
        {
            lock (_gate)
            {
                if (_lowestUnfinished < 0)
                {
                    _lowestUnfinished = offset;
                }
            }
        }

        public void Complete(long offset)
        {
            lock (_gate)
            {
                if (offset != _lowestUnfinished)
                {
                    _finishedAhead.Add(offset);
                    return;
                }

                _lowestUnfinished++;
                while (_finishedAhead.Remove(_lowestUnfinished))
                {
                    _lowestUnfinished++;
                }
            }
        }

        public long? TakeCommit()
        {
            lock (_gate)
            {
                if (_lowestUnfinished <= _lastCommitted || _lowestUnfinished < 0)
                {
                    return null;
                }

                _lastCommitted = _lowestUnfinished;
                return _lowestUnfinished;
            }
        }
    }
}
