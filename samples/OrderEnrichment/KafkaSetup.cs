using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Meshinery.Testing;

namespace OrderEnrichment;

/// <summary>The cluster, its topics and the seed orders: everything that happens before the engine starts.</summary>
internal static class KafkaSetup
{
    private static readonly TimeSpan s_metadataTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_createTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_seedTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Starts the embedded cluster, or names the existing one (which is contacted only when needed).</summary>
    public static KafkaTestCluster OpenCluster(SampleSettings settings) =>
        settings.BootstrapServers is { } servers
            ? KafkaTestCluster.Connect(servers)
            : KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Brokers = 1 });

    /// <summary>
    /// Creates the input, output and dead-letter topics. On the embedded cluster they are created with
    /// <see cref="SampleSettings.Partitions"/> partitions. On an existing cluster only missing topics are created, and a
    /// failure (no permission, a broker without the admin API) is reported and ignored: the topics may exist under
    /// another owner's control, or the brokers may create them on first use.
    /// </summary>
    public static async Task EnsureTopicsAsync(KafkaTestCluster cluster, SampleSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        string[] topics = [settings.InputTopic, settings.OutputTopic, settings.DeadLetterTopic];
        if (cluster.IsEmbedded)
        {
            foreach (var topic in topics.Distinct(StringComparer.Ordinal))
            {
                await cluster.CreateTopicAsync(topic, settings.Partitions, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        HashSet<string> existing;
        try
        {
            existing = await Task.Run(() => ListTopics(cluster.BootstrapServers), cancellationToken).ConfigureAwait(false);
        }
        catch (KafkaException error)
        {
            log.WriteLine($"warning: could not list the cluster's topics ({error.Error.Reason}); not creating any");
            return;
        }

        foreach (var topic in topics.Distinct(StringComparer.Ordinal).Where(t => !existing.Contains(t)))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(s_createTimeout);
            try
            {
                await cluster.CreateTopicAsync(topic, settings.Partitions, timeout.Token).ConfigureAwait(false);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"created topic {topic} with {settings.Partitions} partitions"));
            }
            catch (Exception error) when (error is KafkaException or InvalidOperationException
                                          || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                log.WriteLine($"warning: could not create topic {topic} ({error.Message}); going on, the brokers may create it on first use");
            }
        }
    }

    /// <summary>Produces <see cref="SampleSettings.SeedCount"/> orders and <see cref="SampleSettings.SeedInvalid"/> malformed messages.</summary>
    public static async Task SeedAsync(string bootstrapServers, SampleSettings settings, TextWriter log, CancellationToken cancellationToken)
    {
        var config = new ProducerConfig
        {
            BootstrapServers = bootstrapServers,
            ClientId = "order-enrichment-seeder",
            LingerMs = 20,
            EnableIdempotence = true,
        };
        using var producer = new ProducerBuilder<string, string>(config).Build();
        var failures = 0;
        string? firstFailure = null;
        void OnDelivered(DeliveryReport<string, string> report)
        {
            if (report.Error.IsError && Interlocked.Increment(ref failures) == 1)
            {
                firstFailure = report.Error.Reason;
            }
        }

        // The malformed messages are spread evenly among the orders: the k-th one follows the (k × every)-th order.
        var invalidEvery = settings.SeedInvalid == 0 ? int.MaxValue : Math.Max(1, settings.SeedCount / settings.SeedInvalid);
        int orders = 0, invalid = 0;
        while (orders < settings.SeedCount || invalid < settings.SeedInvalid)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Message<string, string> message;
            if (invalid < settings.SeedInvalid && (orders >= settings.SeedCount || orders >= (long)(invalid + 1) * invalidEvery))
            {
                // Not JSON: the input cannot deserialize it, so it goes to the dead-letter topic with its original bytes.
                var n = ++invalid;
                message = new Message<string, string>
                {
                    Key = string.Create(CultureInfo.InvariantCulture, $"malformed-{n:D4}"),
                    Value = string.Create(CultureInfo.InvariantCulture, $"order #{n}: this is not JSON {{"),
                };
            }
            else
            {
                var order = Order.Create(++orders);
                var key = settings.Ordering == Meshinery.TaskOrdering.Key ? order.Customer! : order.Id!; // --ordering key: keyed by customer
                message = new Message<string, string> { Key = key, Value = JsonSerializer.Serialize(order) };
            }

            Produce(producer, settings.InputTopic, message, OnDelivered);
        }

        var remaining = await Task.Run(() => producer.Flush(s_seedTimeout), cancellationToken).ConfigureAwait(false);
        if (remaining > 0 || failures > 0)
        {
            throw new InvalidOperationException(string.Create(
                CultureInfo.InvariantCulture,
                $"Seeding {settings.InputTopic} failed: {failures} message(s) not delivered, {remaining} still pending after {s_seedTimeout.TotalSeconds:N0} s ({firstFailure ?? "timed out"})."));
        }

        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded {orders:N0} orders and {invalid:N0} malformed messages to {settings.InputTopic}"));
    }

    private static void Produce(IProducer<string, string> producer, string topic, Message<string, string> message, Action<DeliveryReport<string, string>> onDelivered)
    {
        while (true)
        {
            try
            {
                producer.Produce(topic, message, onDelivered);
                return;
            }
            catch (ProduceException<string, string> error) when (error.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100)); // the local queue is full: let deliveries drain it
            }
        }
    }

    private static HashSet<string> ListTopics(string bootstrapServers)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrapServers, ClientId = "order-enrichment-setup" }).Build();
        return admin.GetMetadata(s_metadataTimeout).Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal);
    }
}
