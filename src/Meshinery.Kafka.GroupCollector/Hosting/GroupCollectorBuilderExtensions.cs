namespace Meshinery.Kafka.GroupCollector;

/// <summary>Adds the group collector (seed 004: fan-out / fan-in over Kafka) to Meshinery.</summary>
public static class GroupCollectorBuilderExtensions
{
    /// <summary>The name of the collector's <see cref="System.Diagnostics.Metrics.Meter"/>.</summary>
    public const string MeterName = CollectorMetrics.MeterName;

    /// <summary>
    /// Adds a group collector: three tasks that read <see cref="GroupCollectorOptions.Topic"/> and write one
    /// <c>EventGroupCollectorSuccess</c> or <c>EventGroupCollectorFailure</c> per group to
    /// <see cref="GroupCollectorOptions.OutputTopic"/>. <c>{Name}.repartition</c> checks each event and re-keys it by group
    /// id into the internal topic (invalid events go to the dead-letter topic); <c>{Name}.collect</c> applies the events
    /// of the partitions it owns, keeping the groups' state in the changelog topic; <c>{Name}.expiry</c> turns passed
    /// deadlines into ticks on the internal topic. Run any number of instances with the same options. Needs
    /// <c>UseKafka</c> (or <see cref="GroupCollectorOptions.BootstrapServers"/>), and the internal and changelog topics
    /// with the same number of partitions.
    /// </summary>
    /// <param name="builder">The Meshinery builder.</param>
    /// <param name="configure">Sets the options; validated here.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="MeshineryConfigurationException">An option is invalid.</exception>
    public static MeshineryBuilder AddGroupCollector(this MeshineryBuilder builder, Action<GroupCollectorOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new GroupCollectorOptions();
        configure?.Invoke(options);
        options.Validate();

        var parser = new GroupEventParser(options.DefaultTtl, options.MaxTtl, options.MaxExpectedEntities);
        var repartitioner = new Repartitioner(parser);
        var state = new CollectorState(options);
        var deadLetters = new KafkaDeadLetterOutput(options.DeadLetterTopicName, options.BootstrapServers);
        var internalTopic = new KafkaOutput<KeyedBytes>(options.InternalTopicName, o =>
        {
            o.BootstrapServers = options.BootstrapServers;
            o.Key = record => record.Key;
            o.Serializer = KeyedBytes.Serializer;
        });

        return builder
            .AddTask<GroupTick>($"{options.Name}.expiry", task => task
                .ReadFrom(state.Expiries)
                .WithMaxInFlight(options.MaxInFlight)
                .Process(Repartitioner.Tick, "tick")
                .WriteTo(internalTopic))
            .AddTask<byte[]>($"{options.Name}.collect", task => task
                .ReadFrom(new InternalTopicInput(state))
                .WithMaxInFlight(options.MaxInFlight)
                .DeadLetterTo(deadLetters)
                .Process(
                    value => new RoutedEvent(
                        TaskRunContext.Current!.Position.Partition,
                        parser.Parse(value, internalTopic: true) ?? throw new InvalidGroupEventException("A result event on the internal topic.")),
                    "parse")
                .WriteTo(new CollectorSink(state)))
            .AddTask<byte[]>($"{options.Name}.repartition", task => task
                .ReadFrom(new KafkaInput<byte[]>(options.Topic, o =>
                {
                    o.GroupId = options.GroupId;
                    o.BootstrapServers = options.BootstrapServers;
                }))
                .WithMaxInFlight(options.MaxInFlight)
                .DeadLetterTo(deadLetters)
                .Process(repartitioner.Route, "validate")
                .Where(record => !Repartitioner.IsSkipped(record), "skip-results")
                .WriteTo(internalTopic));
    }
}
