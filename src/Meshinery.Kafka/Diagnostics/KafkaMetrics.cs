using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka;

/// <summary>
/// The Kafka package's metrics: one <see cref="Meter"/> named <c>Meshinery.Kafka</c> (from the application's
/// <see cref="IMeterFactory"/> when it has one, as the core's <c>Meshinery</c> meter), with one instrument per kind
/// shared by every input and output; the observable gauges read the inputs started now. Instruments are tagged with
/// <c>meshinery.task</c> and <c>meshinery.input</c> or <c>meshinery.output</c>, per partition also with
/// <c>messaging.destination.name</c> (the topic) and <c>messaging.destination.partition.id</c>.
/// </summary>
internal sealed class KafkaMetrics
{
    public const string Name = "Meshinery.Kafka";
    public const string TaskTag = "meshinery.task";
    public const string InputTag = "meshinery.input";
    public const string OutputTag = "meshinery.output";
    public const string TopicTag = "messaging.destination.name";
    public const string PartitionTag = "messaging.destination.partition.id";
    public const string RebalanceTag = "meshinery.kafka.rebalance";
    public const string ErrorTypeTag = "error.type";

    /// <summary>
    /// Bucket boundaries for the duration histograms, in seconds (the core's for <c>meshinery.step.duration</c>): from half
    /// a millisecond, a produce acknowledged on a fast network, to five minutes, librdkafka's default delivery timeout.
    /// </summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private static readonly InstrumentAdvice<double> s_durationAdvice = new() { HistogramBucketBoundaries = DurationBuckets };
    private static readonly ConditionalWeakTable<IMeterFactory, KafkaMetrics> s_byFactory = [];
    private static readonly Lazy<KafkaMetrics> s_default = new(() => new KafkaMetrics(new Meter(Name, Version)));
    private readonly ConcurrentDictionary<ObservedInput, byte> _inputs = new();

    private KafkaMetrics(Meter meter)
    {
        Meter = meter;
        Rebalances = meter.CreateCounter<long>(
            "meshinery.kafka.consumer.rebalances", "{rebalance}", "Times the group assigned, revoked or lost partitions of an input (tagged meshinery.kafka.rebalance).");
        CommitFailures = meter.CreateCounter<long>(
            "meshinery.kafka.consumer.commit_failures", "{commit}", "Offset commits that failed, wholly or for some partitions.");
        CommitDuration = meter.CreateHistogram<double>(
            "meshinery.kafka.consumer.commit.duration", "s", "How long an offset commit takes, from request to the broker's answer.", tags: null, s_durationAdvice);
        ProduceDuration = meter.CreateHistogram<double>(
            "meshinery.kafka.producer.duration", "s", "How long a write takes, from produce to the broker's acknowledgement (retries inside librdkafka included).", tags: null, s_durationAdvice);
        meter.CreateObservableGauge(
            "meshinery.kafka.consumer.lag", () => Measure(static (input, add) => input.Lag(add)), "{message}",
            "Per partition held: the high watermark minus the offset up to which work is finished (sampled at most every second).");
        meter.CreateObservableGauge(
            "meshinery.kafka.consumer.committed_offset", () => Measure(static (input, add) => input.Committed(add)), "{offset}",
            "Per partition held: the offset committed last (the next one to read).");
        meter.CreateObservableGauge(
            "meshinery.kafka.consumer.assigned_partitions", () => Measure(static (input, add) => add(input.Assigned(), input.Tags)), "{partition}",
            "Partitions an input holds now.");
        meter.CreateObservableGauge(
            "meshinery.kafka.consumer.paused_partitions", () => Measure(static (input, add) => add(input.Paused(), input.Tags)), "{partition}",
            "Partitions an input holds back now (back-pressure).");
    }

    public Meter Meter { get; }

    public Counter<long> Rebalances { get; }

    public Counter<long> CommitFailures { get; }

    public Histogram<double> CommitDuration { get; }

    public Histogram<double> ProduceDuration { get; }

    private static string? Version => typeof(KafkaMetrics).Assembly.GetName().Version?.ToString();

    /// <summary>The metrics of the application's meter factory, or the process's own meter without one.</summary>
    public static KafkaMetrics For(IServiceProvider services) =>
        services.GetService<IMeterFactory>() is { } factory
            ? s_byFactory.GetValue(factory, static f => new KafkaMetrics(f.Create(Name, Version)))
            : s_default.Value;

    /// <summary>Adds a started input to the gauges; disposing the result takes it out.</summary>
    public IDisposable Observe(
        KeyValuePair<string, object?>[] tags, PartitionLagSampler sampler, Func<int> assigned, Func<int> paused)
    {
        var input = new ObservedInput(this, tags, sampler, assigned, paused);
        _inputs[input] = 0;
        return input;
    }

    private List<Measurement<long>> Measure(Action<ObservedInput, Action<long, KeyValuePair<string, object?>[]>> measure)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var input in _inputs.Keys)
        {
            measure(input, (value, tags) => measurements.Add(new Measurement<long>(value, tags)));
        }

        return measurements;
    }

    private sealed class ObservedInput(
        KafkaMetrics owner, KeyValuePair<string, object?>[] tags, PartitionLagSampler sampler, Func<int> assigned, Func<int> paused)
        : IDisposable
    {
        public KeyValuePair<string, object?>[] Tags => tags;

        public Func<int> Assigned => assigned;

        public Func<int> Paused => paused;

        public void Lag(Action<long, KeyValuePair<string, object?>[]> add)
        {
            foreach (var sample in sampler.Samples)
            {
                if (sample.Lag is { } lag)
                {
                    add(lag, PartitionTags(sample));
                }
            }
        }

        public void Committed(Action<long, KeyValuePair<string, object?>[]> add)
        {
            foreach (var sample in sampler.Samples)
            {
                if (sample.Committed is { } offset)
                {
                    add(offset, PartitionTags(sample));
                }
            }
        }

        public void Dispose() => owner._inputs.TryRemove(this, out _);

        private KeyValuePair<string, object?>[] PartitionTags(PartitionSample sample) =>
            [.. tags, new(TopicTag, sample.Partition.Topic), new(PartitionTag, sample.Partition.Partition.Value)];
    }
}

/// <summary>What one input records on the Kafka meter: its rebalances and its commits, and its gauges while it runs.</summary>
internal sealed class InputMetrics(KafkaMetrics metrics, string task, string input)
{
    /// <summary>The input's tags: task and input.</summary>
    public KeyValuePair<string, object?>[] Tags { get; } = [new(KafkaMetrics.TaskTag, task), new(KafkaMetrics.InputTag, input)];

    /// <summary>Adds the started input to the gauges; disposing the result takes it out (at stop).</summary>
    public IDisposable Observe(PartitionLagSampler sampler, Func<int> assigned, Func<int> paused) => metrics.Observe(Tags, sampler, assigned, paused);

    /// <summary>The group assigned (<c>assigned</c>), revoked or lost partitions; callbacks without any are not counted.</summary>
    public void Rebalanced(string kind, int partitions)
    {
        if (partitions > 0)
        {
            var tags = new TagList(Tags) { { KafkaMetrics.RebalanceTag, kind } };
            metrics.Rebalances.Add(1, tags);
        }
    }

    /// <summary>A commit request ended, started at <paramref name="startedAt"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void Committed(long startedAt, bool failed)
    {
        metrics.CommitDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, new TagList(Tags));
        if (failed)
        {
            metrics.CommitFailures.Add(1, new TagList(Tags));
        }
    }
}
