namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The internal topic's <see cref="KafkaInput{T}"/>, started after the collector's state has its services: the
/// input's consume thread restores partitions (which needs the clock, logger and meter) as soon as it is started.
/// It works under any group protocol: under an eager one a rebalance revokes every partition and assigns the new set,
/// under cooperative-sticky (the library's default) it revokes only the partitions that move and assigns only those
/// that arrive, so the tables of the partitions an instance keeps stay in memory.
/// </summary>
/// <remarks>
/// When a partition cannot be restored, the engine is told to stop (a fatal error) from the assignment handler, which
/// returns normally so that the consumer can still leave the group; from then on <see cref="Poll"/> hands out nothing,
/// so no event is applied to a missing table and no offset is committed past one: the next owner reads them again.
/// </remarks>
internal sealed class InternalTopicInput : InputSource<byte[]>
{
    private readonly KafkaInput<byte[]> _input;
    private readonly CollectorState _state;
    private SourceContext? _context;

    public InternalTopicInput(CollectorState state)
        : base(state.Options.InternalTopicName)
    {
        _state = state;
        var options = state.Options;
        _input = new KafkaInput<byte[]>(options.InternalTopicName, o =>
        {
            o.GroupId = options.CollectGroupId;
            o.BootstrapServers = options.BootstrapServers;
            o.PartitionsAssigned = OnAssigned;
            o.PartitionsRevoked = state.OnRevoked;
        });
    }

    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _state.Initialize(context);
        _context = context;
        return _input.StartAsync(context, cancellationToken);
    }

    /// <summary>
    /// Once a restore failed, what the input took is dropped: never acknowledged, so never committed. The engine stops
    /// polling when the failure is reported, but a poll already under way may still take messages; the failure is set
    /// before any message of its partition is read, so checking after the take sees it for every such message.
    /// </summary>
    public override int Poll(Span<SourceItem<byte[]>> buffer)
    {
        var taken = _input.Poll(buffer);
        return _state.RestoreFailure is null ? taken : 0;
    }

    public override ValueTask StopAsync(CancellationToken cancellationToken) => _input.StopAsync(cancellationToken);

    private void OnAssigned(IReadOnlyList<Confluent.Kafka.TopicPartition> partitions)
    {
        if (_state.OnAssigned(partitions) is { } failure)
        {
            _context!.ReportFatalError(failure);
        }
    }
}
