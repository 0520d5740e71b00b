using Confluent.Kafka;

namespace Meshinery.Testing;

/// <summary>
/// A Kafka cluster for tests, samples and local runs: either an embedded one (librdkafka's mock broker, in this
/// process, on loopback; no Docker or JVM) or an existing cluster reached by its bootstrap servers. Any Kafka client
/// can use <see cref="BootstrapServers"/>.
/// </summary>
/// <example>
/// <code>
/// await using var cluster = KafkaTestCluster.FromEnvironment();
/// await cluster.CreateTopicAsync("orders", partitions: 8);
/// var config = new ProducerConfig { BootstrapServers = cluster.BootstrapServers };
/// </code>
/// </example>
public abstract class KafkaTestCluster : IAsyncDisposable, IDisposable
{
    /// <summary>
    /// The environment variable <see cref="FromEnvironment"/> reads: when it holds a bootstrap server list (for
    /// example <c>localhost:9092</c>), that cluster is used instead of an embedded one.
    /// </summary>
    public const string BootstrapServersEnvironmentVariable = "MESHINERY_KAFKA_BOOTSTRAP_SERVERS";

    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);

    private readonly Lock gate = new();
    private IAdminClient? adminClient;
    private bool disposed;

    // Only the implementations in this assembly: the set of cluster kinds is closed.
    private protected KafkaTestCluster()
    {
    }

    /// <summary>The comma-separated <c>host:port</c> list to give Kafka clients as <c>bootstrap.servers</c>.</summary>
    public abstract string BootstrapServers { get; }

    /// <summary>Whether this is an embedded cluster started by this process (rather than an existing cluster it connected to).</summary>
    public abstract bool IsEmbedded { get; }

    /// <summary>Whether <see cref="Dispose()"/> or <see cref="DisposeAsync"/> has been called.</summary>
    private protected bool IsDisposed
    {
        get
        {
            lock (gate)
            {
                return disposed;
            }
        }
    }

    /// <summary>
    /// Starts an embedded cluster: librdkafka's mock broker, running in this process and listening on loopback ports.
    /// It keeps its data in memory and is gone when disposed. Starting takes a few milliseconds.
    /// </summary>
    /// <param name="options">Brokers, initial topics and group settings; <see langword="null"/> for the defaults.</param>
    /// <returns>The running cluster; dispose it to stop it.</returns>
    /// <exception cref="DllNotFoundException">librdkafka (from the librdkafka.redist package) cannot be loaded.</exception>
    /// <exception cref="InvalidOperationException">librdkafka could not start the mock cluster.</exception>
    public static EmbeddedKafkaCluster StartEmbedded(EmbeddedKafkaClusterOptions? options = null) =>
        EmbeddedKafkaCluster.Start(options ?? new EmbeddedKafkaClusterOptions());

    /// <summary>
    /// Uses an existing cluster. Nothing is contacted until a topic is created or a client connects; disposing
    /// the returned object leaves the cluster and its topics alone.
    /// </summary>
    /// <param name="bootstrapServers">The cluster's <c>bootstrap.servers</c> list, for example <c>localhost:9092</c>.</param>
    /// <returns>The cluster.</returns>
    /// <exception cref="ArgumentException"><paramref name="bootstrapServers"/> is null, empty or white space.</exception>
    public static KafkaTestCluster Connect(string bootstrapServers)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(bootstrapServers);
        return new ConnectedKafkaCluster(bootstrapServers.Trim());
    }

    /// <summary>
    /// Connects to the cluster named by the environment variable <see cref="BootstrapServersEnvironmentVariable"/>
    /// when it is set and not blank, and otherwise starts an embedded cluster. This lets the same tests run on the
    /// embedded cluster by default and against a real Kafka when one is provided.
    /// </summary>
    /// <param name="options">Used only when an embedded cluster is started; <see langword="null"/> for the defaults.</param>
    /// <returns>The cluster; dispose it when done.</returns>
    public static KafkaTestCluster FromEnvironment(EmbeddedKafkaClusterOptions? options = null) =>
        FromSetting(Environment.GetEnvironmentVariable(BootstrapServersEnvironmentVariable), options);

    /// <summary>The selection behind <see cref="FromEnvironment"/>, given the environment variable's value.</summary>
    internal static KafkaTestCluster FromSetting(string? bootstrapServers, EmbeddedKafkaClusterOptions? options) =>
        string.IsNullOrWhiteSpace(bootstrapServers) ? StartEmbedded(options) : Connect(bootstrapServers);

    /// <summary>
    /// Creates a topic with <paramref name="partitions"/> partitions. A topic of that name that already exists with
    /// the same partition count is accepted as it is, so tests can run again against a long-lived cluster.
    /// </summary>
    /// <param name="name">The topic name: 1 to 249 ASCII letters, digits, '.', '_' or '-'.</param>
    /// <param name="partitions">The partition count; at least 1.</param>
    /// <param name="cancellationToken">Stops waiting for the cluster (the topic may still be created).</param>
    /// <returns>A task that completes when the topic exists.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid topic name.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="partitions"/> is less than 1.</exception>
    /// <exception cref="ObjectDisposedException">The cluster object has been disposed.</exception>
    /// <exception cref="InvalidOperationException">The topic exists with a different partition count.</exception>
    /// <exception cref="KafkaException">The cluster refused to create the topic; the message names the Kafka error.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public ValueTask CreateTopicAsync(string name, int partitions, CancellationToken cancellationToken = default)
    {
        TopicNames.Validate(name, nameof(name));
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        return CreateTopicCoreAsync(name, partitions, cancellationToken);
    }

    /// <summary>
    /// Stops an embedded cluster (its ports close and its data is gone); for a connected cluster, only releases the
    /// clients this object used. Safe to call more than once and from several threads.
    /// </summary>
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Same as <see cref="Dispose()"/>; present so the cluster works with <c>await using</c>.</summary>
    /// <returns>A completed task.</returns>
    public ValueTask DisposeAsync()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Releases the admin client; implementations release their own resources and then call this.</summary>
    /// <param name="disposing"><see langword="true"/> when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (!disposing)
        {
            return;
        }

        IAdminClient? client;
        lock (gate)
        {
            disposed = true;
            client = adminClient;
            adminClient = null;
        }

        client?.Dispose();
    }

    /// <summary>Creates the already validated topic.</summary>
    private protected abstract ValueTask CreateTopicCoreAsync(string name, int partitions, CancellationToken cancellationToken);

    /// <summary>An admin client for this cluster, created on first use and disposed with the cluster.</summary>
    private protected IAdminClient GetAdminClient()
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            return adminClient ??= new AdminClientBuilder(new AdminClientConfig
            {
                BootstrapServers = BootstrapServers,
                ClientId = "meshinery-testing",
            }).Build();
        }
    }

    /// <summary>
    /// Accepts an existing topic only with the requested partition count: a stale topic from an earlier run, or one
    /// a client created implicitly, would otherwise make partition-sensitive tests pass or fail for the wrong reason.
    /// </summary>
    private protected async Task EnsureExistingTopicHasPartitionsAsync(string name, int partitions, CancellationToken cancellationToken)
    {
        var admin = GetAdminClient();

        // GetMetadata blocks. Asking for the one topic is safe here: it exists, so it cannot be auto-created.
        var metadata = await Task.Run(() => admin.GetMetadata(name, MetadataTimeout), cancellationToken)
            .WaitAsync(cancellationToken).ConfigureAwait(false);
        var topic = metadata.Topics.Find(t => string.Equals(t.Topic, name, StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The cluster reported that topic '{name}' exists, but its metadata does not list it.");
        if (topic.Error.IsError)
        {
            throw new KafkaException(topic.Error);
        }

        if (topic.Partitions.Count != partitions)
        {
            throw new InvalidOperationException(
                $"Topic '{name}' already exists with {topic.Partitions.Count} partition(s), not {partitions}. It may be " +
                "left over from an earlier run or have been created implicitly by a client; use another name or delete it.");
        }
    }
}
