namespace Meshinery.Kafka;

/// <summary>
/// A flag one thread waits on with a timeout and others set. Built on <see cref="Monitor"/> rather than an event so
/// that the input owning it needs no disposal (inputs belong to the application, which never disposes them).
/// </summary>
internal sealed class WaitSignal
{
    private readonly object _gate = new();
    private bool _set;

    public void Set()
    {
        lock (_gate)
        {
            _set = true;
            Monitor.PulseAll(_gate);
        }
    }

    public void Reset()
    {
        lock (_gate)
        {
            _set = false;
        }
    }

    /// <summary>Waits until the flag is set or the timeout passes; returns whether it is set.</summary>
    public bool Wait(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (!_set)
            {
                Monitor.Wait(_gate, timeout);
            }

            return _set;
        }
    }
}
