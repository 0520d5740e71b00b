namespace Meshinery.Kafka.GroupCollector;

/// <summary>
/// The internal topic's <see cref="KafkaInput{T}"/>, started after the collector's state has its services: the
/// input's consume thread restores partitions (which needs the clock, logger and meter) as soon as it is started.
/// </summary>
internal sealed class InternalTopicInput : InputSource<byte[]>
{
    private readonly KafkaInput<byte[]> _input;
    private readonly CollectorState _state;

    public InternalTopicInput(CollectorState state)
        : base(state.Options.InternalTopicName)
    {
        _state = state;
        var options = state.Options;
        _input = new KafkaInput<byte[]>(options.InternalTopicName, o =>
        {
            o.GroupId = options.CollectGroupId;
            o.BootstrapServers = options.BootstrapServers;
            o.PartitionsAssigned = state.OnAssigned;
            o.PartitionsRevoked = state.OnRevoked;
            CollectorProtocol.Apply(o);
        });
    }

    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _state.Initialize(context);
        return _input.StartAsync(context, cancellationToken);
    }

    public override int Poll(Span<SourceItem<byte[]>> buffer) => _input.Poll(buffer);

    public override ValueTask StopAsync(CancellationToken cancellationToken) => _input.StopAsync(cancellationToken);
}
