using Confluent.Kafka;
using Meshinery.Scenarios.Measurement;
using Meshinery.Scenarios.Messages;
using Meshinery.Scenarios.Orchestration;

namespace Meshinery.Scenarios.Systems;

/// <summary>
/// Plain Confluent.Kafka consume loops, one message at a time per loop. The output is produced without waiting for the
/// broker (as Kafka Streams does); every <see cref="ClientSettings.CommitInterval"/> and at the end a loop flushes the
/// producer and then commits the offsets it has processed, so a commit never covers an output that is not durable.
/// </summary>
internal sealed class PlainLoopSystem : BenchSystem
{
    private readonly Mode _mode;
    private readonly List<Thread> _threads = [];
    private readonly List<Exception> _errors = [];
    private readonly BenchMessageDeserializer _deserializer;
    private readonly Action<DeliveryReport<byte[]?, byte[]>> _onDelivered;
    private IProducer<byte[]?, byte[]>? _producer;
    private volatile bool _stopping;
    private int _assigned;

    public PlainLoopSystem(RunSpec spec, RunProbe probe, Mode mode)
        : base(spec, probe)
    {
        _mode = mode;
        _deserializer = new BenchMessageDeserializer(probe);
        _onDelivered = report =>
        {
            if (report.Error.IsError)
            {
                Probe.MarkFailed(report.Error.Reason);
            }
            else
            {
                Probe.MarkAcked();
            }
        };
    }

    public enum Mode
    {
        /// <summary>One consumer subscribed to the topic, one thread, produces the output.</summary>
        Raw,

        /// <summary>One consumer subscribed to the topic, one thread, consumes only.</summary>
        ConsumeOnly,

        /// <summary>A consumer and a thread per partition (each assigned its partition), produces the output.</summary>
        PerPartition,
    }

    public override bool IsReady => Volatile.Read(ref _assigned) > 0;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_mode != Mode.ConsumeOnly)
        {
            _producer = new ProducerBuilder<byte[]?, byte[]>(BaselineProducerConfig()).Build();
        }

        var loops = _mode == Mode.PerPartition ? Spec.Partitions : 1;
        for (var i = 0; i < loops; i++)
        {
            var partition = _mode == Mode.PerPartition ? i : -1;
            var thread = new Thread(() => Loop(partition)) { IsBackground = true, Name = $"loop-{i}" };
            _threads.Add(thread);
            thread.Start();
        }

        return Task.CompletedTask;
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        return Task.Run(
            () =>
            {
                foreach (var thread in _threads)
                {
                    thread.Join();
                }

                _producer?.Dispose();
                lock (_errors)
                {
                    if (_errors.Count > 0)
                    {
                        throw new AggregateException(_errors);
                    }
                }
            },
            cancellationToken);
    }

    private void Loop(int partition)
    {
        try
        {
            var config = BaselineConsumerConfig();
            using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
                .SetPartitionsAssignedHandler((_, partitions) => Interlocked.Add(ref _assigned, partitions.Count))
                .Build();
            if (partition >= 0)
            {
                consumer.Assign(new TopicPartitionOffset(Spec.InputTopic, partition, Offset.Stored));
                Interlocked.Increment(ref _assigned);
            }
            else
            {
                consumer.Subscribe(Spec.InputTopic);
            }

            var processed = new Dictionary<TopicPartition, long>();
            var nextCommit = DateTime.UtcNow + ClientSettings.CommitInterval;
            while (!_stopping)
            {
                var result = consumer.Consume(ClientSettings.PollTimeout);
                if (result is not null && !result.IsPartitionEOF)
                {
                    Process(result);
                    processed[result.TopicPartition] = result.Offset.Value + 1;
                }

                if (DateTime.UtcNow >= nextCommit)
                {
                    Commit(consumer, processed);
                    nextCommit = DateTime.UtcNow + ClientSettings.CommitInterval;
                }
            }

            Commit(consumer, processed);
            consumer.Close();
        }
        catch (Exception error)
        {
            lock (_errors)
            {
                _errors.Add(error);
            }
        }
    }

    private void Process(ConsumeResult<byte[], byte[]> result)
    {
        var message = _deserializer.Deserialize(
            result.Message.Value, result.Message.Value is null, new SerializationContext(MessageComponentType.Value, result.Topic));
        WorkSync();
        if (_producer is null)
        {
            Probe.MarkAcked();
            return;
        }

        var output = new Message<byte[]?, byte[]> { Key = result.Message.Key, Value = BenchMessageSerializer.Instance.Serialize(message, default) }; // the input key, as Meshinery writes it
        while (true)
        {
            try
            {
                _producer.Produce(Spec.OutputTopic, output, _onDelivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(10)); // the producer's queue is full: let deliveries drain it
            }
        }
    }

    private void Commit(IConsumer<byte[], byte[]> consumer, Dictionary<TopicPartition, long> processed)
    {
        if (processed.Count == 0)
        {
            return;
        }

        // Outputs first: what is committed must be durable downstream (at-least-once).
        _producer?.Flush(TimeSpan.FromSeconds(30));
        consumer.Commit(processed.Select(p => new TopicPartitionOffset(p.Key, new Offset(p.Value))));
    }
}
