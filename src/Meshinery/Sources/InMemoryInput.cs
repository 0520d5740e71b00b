using System.Threading.Channels;

namespace Meshinery;

/// <summary>
/// A bounded in-memory input: write items to it, a task reads them. Writers wait while it is full, so a producer
/// faster than the task is slowed down rather than growing memory. Call <see cref="Complete"/> when no more items
/// will come (batch mode then stops once everything is processed). Items are not durable: a run abandoned at
/// shutdown is counted in <see cref="Abandoned"/>, not redelivered.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class InMemoryInput<T> : InputSource<T>, IAcknowledger
{
    private readonly Channel<(T Item, long Sequence)> _channel;
    private readonly TaskCompletionSource _allAcknowledged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SourceContext? _context;
    private long _written;
    private long _completed;
    private long _dropped;
    private long _failed;
    private long _abandoned;

    /// <summary>Creates the input.</summary>
    /// <param name="name">The source's name. Default: <c>memory</c>.</param>
    /// <param name="capacity">How many unread items it holds at most; writers wait beyond. Default: 10,000.</param>
    public InMemoryInput(string name = "memory", int capacity = 10_000)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _channel = Channel.CreateBounded<(T, long)>(new BoundedChannelOptions(capacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>How many unread items the input holds at most.</summary>
    public int Capacity { get; }

    /// <summary>Items written so far.</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>Items acknowledged as completed.</summary>
    public long Completed => Interlocked.Read(ref _completed);

    /// <summary>Items acknowledged as dropped.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Items acknowledged as failed (handed to the error path).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Items abandoned at shutdown.</summary>
    public long Abandoned => Interlocked.Read(ref _abandoned);

    /// <summary>Items acknowledged, whatever the outcome.</summary>
    public long Acknowledged => Completed + Dropped + Failed + Abandoned;

    /// <summary>Items written but not yet read by the task.</summary>
    public int Backlog => _channel.Reader.Count;

    /// <inheritdoc/>
    public override bool IsDrained => _channel.Reader.Completion.IsCompleted;

    /// <summary>
    /// Completes when <see cref="Complete"/> was called and every item written has been acknowledged.
    /// </summary>
    public Task AllAcknowledged => _allAcknowledged.Task;

    /// <summary>Writes an item, waiting while the input is full.</summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>A task that completes when the item is queued.</returns>
    /// <exception cref="ChannelClosedException">The input was completed.</exception>
    public async ValueTask WriteAsync(T item, CancellationToken cancellationToken = default)
    {
        var sequence = Interlocked.Increment(ref _written);
        try
        {
            await _channel.Writer.WriteAsync((item, sequence), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Decrement(ref _written);
            throw;
        }

        _context?.NotifyItemsAvailable();
    }

    /// <summary>Writes an item if there is room.</summary>
    /// <param name="item">The item.</param>
    /// <returns>Whether it was written.</returns>
    public bool TryWrite(T item)
    {
        var sequence = Interlocked.Increment(ref _written);
        if (!_channel.Writer.TryWrite((item, sequence)))
        {
            Interlocked.Decrement(ref _written);
            return false;
        }

        _context?.NotifyItemsAvailable();
        return true;
    }

    /// <summary>Declares that no more items will be written.</summary>
    public void Complete()
    {
        _channel.Writer.TryComplete();
        _context?.NotifyItemsAvailable();
        CheckAllAcknowledged();
    }

    /// <inheritdoc/>
    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        _context = context;
        return default;
    }

    /// <inheritdoc/>
    public override int Poll(Span<SourceItem<T>> buffer)
    {
        var reader = _channel.Reader;
        var count = 0;
        while (count < buffer.Length && reader.TryRead(out var entry))
        {
            buffer[count++] = new SourceItem<T>(entry.Item, new SourcePosition(Name, 0, entry.Sequence), this);
        }

        return count;
    }

    /// <inheritdoc/>
    void IAcknowledger.Acknowledge(SourcePosition position, RunOutcome outcome)
    {
        _ = outcome switch
        {
            RunOutcome.Completed => Interlocked.Increment(ref _completed),
            RunOutcome.Dropped => Interlocked.Increment(ref _dropped),
            RunOutcome.Failed => Interlocked.Increment(ref _failed),
            _ => Interlocked.Increment(ref _abandoned),
        };
        CheckAllAcknowledged();
    }

    private void CheckAllAcknowledged()
    {
        if (_channel.Reader.Completion.IsCompleted && Acknowledged >= Written)
        {
            _allAcknowledged.TrySetResult();
        }
    }
}
