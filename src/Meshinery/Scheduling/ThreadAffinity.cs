using System.Diagnostics;

namespace Meshinery;

/// <summary>
/// Names the one thread that owns some state, so that code documented as running only there can assert it. The
/// checks compile to nothing outside debug builds.
/// </summary>
internal sealed class ThreadAffinity(string owner)
{
    private Thread? _thread;

    /// <summary>Makes the calling thread the owner (the loop calls it first thing).</summary>
    [Conditional("DEBUG")]
    public void Claim() => _thread = Thread.CurrentThread;

    /// <summary>Asserts that the caller runs on the owning thread (or that no thread claimed it yet: the engine is not started).</summary>
    [Conditional("DEBUG")]
    public void Assert() =>
        Debug.Assert(_thread is null || _thread == Thread.CurrentThread, $"Only the {owner} thread may do this; called on '{Thread.CurrentThread.Name}'.");
}
