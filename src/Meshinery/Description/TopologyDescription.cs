namespace Meshinery;

/// <summary>
/// The engine's tasks as data: each task's inputs, steps (with branch paths), outputs and dead-letter output. Get it
/// with <see cref="MeshineryEngineDescriptionExtensions.Describe"/>; <see cref="ToMermaid"/> draws it.
/// </summary>
/// <param name="Tasks">The tasks, in the order they were added.</param>
public sealed record TopologyDescription(IReadOnlyList<TaskDescription> Tasks)
{
    /// <summary>Renders the topology as a Mermaid flowchart (paste it into a <c>```mermaid</c> block).</summary>
    /// <returns>The flowchart's source, one statement per line.</returns>
    public string ToMermaid() => MermaidFlowchart.Write(this);
}

/// <summary>One task of a <see cref="TopologyDescription"/>.</summary>
/// <param name="Name">The task's name.</param>
/// <param name="InputType">The name of the task's input item type.</param>
/// <param name="Inputs">The inputs it reads.</param>
/// <param name="Steps">Its steps in order; a branch ends the list and carries the paths.</param>
/// <param name="DeadLetter">Where failed items go, or <see langword="null"/> when they are only logged.</param>
/// <param name="MaxInFlight">The task's in-flight limit.</param>
/// <param name="WorkerThreads">Its own worker threads, or <see langword="null"/> on the shared pool.</param>
public sealed record TaskDescription(
    string Name,
    string InputType,
    IReadOnlyList<EndpointDescription> Inputs,
    IReadOnlyList<StepDescription> Steps,
    EndpointDescription? DeadLetter,
    int MaxInFlight,
    int? WorkerThreads);

/// <summary>One step of a task.</summary>
/// <param name="Name">The step's name (as in logs, metrics and dead letters).</param>
/// <param name="Kind">What the step does.</param>
/// <param name="Paths">For a <see cref="StepKind.Branch"/>, the steps of each path in order (first match wins); otherwise empty.</param>
/// <param name="Output">For a <see cref="StepKind.Write"/>, the output it writes to; otherwise <see langword="null"/>.</param>
public sealed record StepDescription(string Name, StepKind Kind, IReadOnlyList<IReadOnlyList<StepDescription>> Paths, EndpointDescription? Output);

/// <summary>An input or output: its name (for Kafka, the topic) and kind (the source or sink type, such as <c>KafkaInput</c>).</summary>
/// <param name="Name">The source's or sink's <c>Name</c>.</param>
/// <param name="Kind">Its type's name without generic arguments, or what it reports through <see cref="ITopologyEndpoint"/>.</param>
public sealed record EndpointDescription(string Name, string Kind);

/// <summary>What a step of a <see cref="StepDescription"/> does.</summary>
public enum StepKind
{
    /// <summary>A step the engine does not describe more precisely.</summary>
    Other,

    /// <summary><c>Process</c>: transforms the item (sync or async).</summary>
    Process,

    /// <summary><c>Where</c>: drops the items its predicate rejects.</summary>
    Filter,

    /// <summary><c>Do</c>: a side effect; the item passes on unchanged.</summary>
    SideEffect,

    /// <summary><c>ForkJoin</c>: runs branches concurrently and joins their results.</summary>
    ForkJoin,

    /// <summary><c>Branch</c>: routes the item down one of its paths.</summary>
    Branch,

    /// <summary><c>WriteTo</c>: writes the item to an output.</summary>
    Write,
}

/// <summary>
/// Implemented by a source or sink whose type name does not say what it is (for example a wrapper around another
/// output), so that the topology description shows <see cref="Kind"/> instead.
/// </summary>
public interface ITopologyEndpoint
{
    /// <summary>The kind to show, for example <c>KafkaOutput</c>.</summary>
    string Kind { get; }
}
