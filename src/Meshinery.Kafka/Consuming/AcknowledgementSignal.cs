namespace Meshinery.Kafka;

/// <summary>
/// Lets the consume thread wait, during a revocation, until the handed-out runs of the revoked partitions ended:
/// partition states call <see cref="Notify"/> on every acknowledgement (run loop thread), which costs nothing while
/// nobody waits.
/// </summary>
internal sealed class AcknowledgementSignal
{
    private static readonly TimeSpan s_recheck = TimeSpan.FromMilliseconds(100);
    private readonly WaitSignal _signal = new();
    private volatile bool _waiting;

    public void Notify()
    {
        if (_waiting)
        {
            _signal.Set();
        }
    }

    /// <summary>Waits until <paramref name="inFlight"/> is zero or <paramref name="timeout"/> passes; returns what is still in flight.</summary>
    public int WaitUntilNone(Func<int> inFlight, TimeSpan timeout, TimeProvider time)
    {
        var started = time.GetTimestamp();
        _waiting = true;
        try
        {
            while (true)
            {
                _signal.Reset();
                var count = inFlight();
                var remaining = timeout - time.GetElapsedTime(started);
                if (count == 0 || remaining <= TimeSpan.Zero)
                {
                    return count;
                }

                // Rechecked now and then too: a clock that is not the wall clock may have moved without a signal.
                _signal.Wait(remaining < s_recheck ? remaining : s_recheck);
            }
        }
        finally
        {
            _waiting = false;
        }
    }
}
