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
}
