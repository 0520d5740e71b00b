namespace Meshinery;

/// <summary>Where a <see cref="MeshineryEngine"/> is in its life (see <see cref="MeshineryEngine.State"/>).</summary>
public enum MeshineryEngineState
{
    /// <summary>Created; <see cref="MeshineryEngine.StartAsync"/> has not been called.</summary>
    NotStarted,

    /// <summary>Starting its sources and sinks.</summary>
    Starting,

    /// <summary>Polling its inputs and running tasks.</summary>
    Running,

    /// <summary>Stopping: polling stopped, in-flight runs drain, then sources and sinks stop.</summary>
    Stopping,

    /// <summary>Stopped without error; <see cref="MeshineryEngine.Completion"/> has completed.</summary>
    Stopped,

    /// <summary>
    /// Its start failed, or a fatal error stopped (or is stopping) it; <see cref="MeshineryEngine.Completion"/> carries
    /// the fatal error.
    /// </summary>
    Faulted,
}
