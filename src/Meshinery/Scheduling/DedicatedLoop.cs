using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// A loop on a dedicated thread of its own, started without the caller's execution context, woken by a
/// <see cref="LoopSignal"/>. A failure of the loop is logged and reported as fatal to the engine; <see cref="Exited"/>
/// completes when the loop has returned (or when it is stopped without ever having started).
/// </summary>
internal abstract class DedicatedLoop : IDisposable
{
    private readonly Thread _thread;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _name;
    private readonly Action<Exception> _onFatalError;
    private volatile bool _stopping;
    private volatile bool _started;

    protected DedicatedLoop(EngineEnvironment environment, string name, LoopSignal signal, Action<Exception> onFatalError)
    {
        Environment = environment;
        Signal = signal;
        _name = name;
        _onFatalError = onFatalError;
        _thread = new Thread(Loop) { IsBackground = true, Name = $"meshinery-{name}-loop" };
    }

    public Task Exited => _exited.Task;

    protected EngineEnvironment Environment { get; }

    protected LoopSignal Signal { get; }

    protected bool Stopping => _stopping;

    public void Start()
    {
        _started = true;
        _thread.UnsafeStart();
    }

    public void Wake() => Signal.Set();

    public void Stop()
    {
        _stopping = true;
        Signal.Set();
        if (!_started)
        {
            // The engine's start failed before the loops ran (a source or sink did not start): no thread will ever
            // report its exit, and stopping awaits it.
            _exited.TrySetResult();
        }
    }

    public virtual void Dispose() => Signal.Dispose();

    /// <summary>The loop's body; returns when <see cref="Stopping"/> (or when the loop decides to end).</summary>
    protected abstract void Run();

    private void Loop()
    {
        try
        {
            Run();
            _exited.TrySetResult();
        }
        catch (Exception error)
        {
            Log.LoopFailed(Environment.Logger, error, _name);
            _exited.TrySetException(error);
            _onFatalError(error);
        }
    }
}
