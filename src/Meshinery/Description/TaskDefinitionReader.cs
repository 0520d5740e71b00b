namespace Meshinery;

/// <summary>
/// The one place where the health check and the topology description read the engine's internal task definitions,
/// so that a change to those types is adapted here and nowhere else.
/// </summary>
internal static class TaskDefinitionReader
{
    /// <summary>Every task's inputs, in the order the tasks were added.</summary>
    public static IEnumerable<(string Task, InputSource Input)> Inputs(MeshineryEngine engine) =>
        engine.Definitions.SelectMany(d => d.Inputs.Select(i => (d.Name, i.Source)));

    private static readonly Dictionary<Type, StepKind> StepKinds = new()
    {
        [typeof(SyncStep<,>)] = StepKind.Process,
        [typeof(AsyncStep<,>)] = StepKind.Process,
        [typeof(FilterStep<>)] = StepKind.Filter,
        [typeof(SideEffectStep<>)] = StepKind.SideEffect,
        [typeof(ForkJoinStep<,,>)] = StepKind.ForkJoin,
        [typeof(BranchStep<>)] = StepKind.Branch,
        [typeof(WriteStep<>)] = StepKind.Write,
    };

    /// <summary>Every task as a <see cref="TaskDescription"/>, in the order the tasks were added.</summary>
    public static IEnumerable<TaskDescription> Describe(MeshineryEngine engine) =>
        engine.Definitions.Select(d => new TaskDescription(
            d.Name,
            d.InputType.Name,
            [.. d.Inputs.Select(i => Endpoint(i.Source))],
            Steps(d.Root),
            d.DeadLetterSink is { } deadLetter ? Endpoint(deadLetter) : null,
            d.MaxInFlight,
            d.WorkerThreads));

    private static StepDescription[] Steps(Pipeline pipeline) =>
        [.. pipeline.Steps.Select(step => new StepDescription(
            step.Name,
            StepKinds.GetValueOrDefault(step.GetType().IsGenericType ? step.GetType().GetGenericTypeDefinition() : step.GetType()),
            [.. step.Paths.Select(Steps)],
            step is IWriteStep write ? Endpoint(write.Sink) : null))];

    private static EndpointDescription Endpoint(InputSource source) => new(source.Name, MeshineryEngineDescriptionExtensions.KindOf(source));

    private static EndpointDescription Endpoint(OutputSink sink) => new(sink.Name, MeshineryEngineDescriptionExtensions.KindOf(sink));
}
