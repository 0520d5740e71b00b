using System.Diagnostics;

namespace Meshinery.Scenarios.Measurement;

/// <summary>
/// What a system under test reports while it runs: when it read its first message, how many outputs the broker has
/// acknowledged and when the last one was. Every call is a few interlocked operations, the same for every system.
/// </summary>
internal sealed class RunProbe
{
    private readonly TaskCompletionSource _targetReached = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly long _target;
    private long _firstRead;
    private long _acked;
    private long _lastAck;
    private long _failed;
    private string? _firstError;

    public RunProbe(long target) => _target = target;

    /// <summary>Completes when <see cref="Acked"/> reaches the target.</summary>
    public Task TargetReached => _targetReached.Task;

    public long FirstReadStamp => Interlocked.Read(ref _firstRead);

    public long LastAckStamp => Interlocked.Read(ref _lastAck);

    public long Acked => Interlocked.Read(ref _acked);

    public long Failed => Interlocked.Read(ref _failed);

    public string? FirstError => Volatile.Read(ref _firstError);

    public void MarkRead(long stamp)
    {
        if (Interlocked.Read(ref _firstRead) == 0)
        {
            Interlocked.CompareExchange(ref _firstRead, stamp, 0);
        }
    }

    /// <summary>An output was acknowledged by the broker (it is durable).</summary>
    public void MarkAcked()
    {
        var stamp = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _lastAck, stamp);
        if (Interlocked.Increment(ref _acked) == _target)
        {
            _targetReached.TrySetResult();
        }
    }

    /// <summary>An output could not be written.</summary>
    public void MarkFailed(string reason)
    {
        Interlocked.CompareExchange(ref _firstError, reason, null);
        Interlocked.Increment(ref _failed);
    }
}
