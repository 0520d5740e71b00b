using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using Confluent.Kafka;

namespace Meshinery.Kafka;

/// <summary>
/// The completion of one produce: the delivery handler given to Confluent's <c>Produce</c> and the source of the
/// <see cref="ValueTask"/> the write returns. It replaces <c>ProduceAsync</c>'s per-message task, async state machine and
/// cancellation closure. Reused: it goes back to its pool once the delivery report has arrived and the result has been
/// taken (in either order), so a late report never completes a later produce.
/// </summary>
internal sealed class ProduceCompletion : IValueTaskSource
{
    private static readonly Action<object?> s_onCancelled = static state => ((ProduceCompletion)state!).OnCancelled();
    private readonly ConcurrentQueue<ProduceCompletion> _pool;
    private readonly Action<long, string, string?> _recordProduce;

    // Continuations run on the thread pool, never on Confluent's poll thread (as ProduceAsync's task did).
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _cancellation;
    private CancellationToken _cancellationToken;
    private string _topic = "";
    private long _startedAt;
    private int _completed; // 1 once the delivery report or the cancellation has completed the write
    private int _holders; // the delivery report and the result's reader: the last of them returns this to the pool

    public ProduceCompletion(ConcurrentQueue<ProduceCompletion> pool, Action<long, string, string?> recordProduce)
    {
        _pool = pool;
        _recordProduce = recordProduce;
        OnDelivered = Deliver;
    }

    /// <summary>The delivery handler (one delegate per completion, not per produce).</summary>
    public Action<DeliveryReport<byte[]?, byte[]?>> OnDelivered { get; }

    /// <summary>The write's task; valid until its result is taken once.</summary>
    public ValueTask Write => new(this, _core.Version);

    /// <summary>Prepares for a produce to <paramref name="topic"/> started at <paramref name="startedAt"/>.</summary>
    public void Start(string topic, long startedAt, CancellationToken cancellationToken)
    {
        _topic = topic;
        _startedAt = startedAt;
        _completed = 0;
        _holders = 2;
        _cancellationToken = cancellationToken;

        // UnsafeRegister: the callback only completes the write; nothing of the caller's context is needed. A token
        // cancelled already completes the write as cancelled here (the message is still produced, as with ProduceAsync).
        _cancellation = cancellationToken.CanBeCanceled ? cancellationToken.UnsafeRegister(s_onCancelled, this) : default;
    }

    /// <summary>Confluent refused the message at once (no delivery report will come, no task was handed out).</summary>
    public void Abandon()
    {
        _cancellation.Dispose();
        Recycle();
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public void GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    private void Deliver(DeliveryReport<byte[]?, byte[]?> report)
    {
        // Disposing waits for a cancellation callback that is running: after this line only this thread completes.
        _cancellation.Dispose();
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            if (report.Error.IsError)
            {
                _recordProduce(_startedAt, _topic, report.Error.Code.ToString());
                _core.SetException(new ProduceException<byte[]?, byte[]?>(report.Error, report));
            }
            else
            {
                _recordProduce(_startedAt, _topic, null);
                _core.SetResult(true);
            }
        }

        Release();
    }

    private void OnCancelled()
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
        {
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            Recycle();
        }
    }

    private void Recycle()
    {
        _cancellation = default;
        _cancellationToken = default;
        _topic = "";
        _core.Reset();
        _pool.Enqueue(this);
    }
}
