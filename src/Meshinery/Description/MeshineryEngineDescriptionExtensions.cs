namespace Meshinery;

/// <summary>Describes a <see cref="MeshineryEngine"/>'s tasks.</summary>
public static class MeshineryEngineDescriptionExtensions
{
    /// <summary>
    /// Describes the engine's validated tasks: inputs, steps, branches, outputs and dead letters. Needs no start:
    /// resolving the engine builds and validates the tasks, which is all a description reads.
    /// </summary>
    /// <param name="engine">The engine.</param>
    /// <returns>The description.</returns>
    public static TopologyDescription Describe(this MeshineryEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        return new TopologyDescription([.. TaskDefinitionReader.Describe(engine)]);
    }

    /// <summary>The kind shown for a source or sink: what it reports, or its type's name without generic arguments.</summary>
    internal static string KindOf(object endpoint)
    {
        if (endpoint is ITopologyEndpoint described)
        {
            return described.Kind;
        }

        var name = endpoint.GetType().Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }
}
