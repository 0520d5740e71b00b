namespace Meshinery;

/// <summary>Writes the item to an output (when its condition holds) and passes it on once the write is durable.</summary>
internal sealed class WriteStep<T>(string name, OutputSink<T> sink, Func<T, bool>? when) : Step(name, typeof(T)), IWriteStep
{
    public OutputSink<T> Sink { get; } = sink;

    OutputSink IWriteStep.Sink => Sink;

    public override bool IsProcessor => false;

    /// <summary>
    /// The write runs where the previous await completed when the sink declares that its writes never block, and no
    /// condition (user code) decides whether to write.
    /// </summary>
    public override bool RunsInline => when is null && Sink.IsNonBlocking;

    public override void Execute(TaskRun run)
    {
        var item = run.GetItem<T>();
        if (when is not null && !when(item))
        {
            run.Advance();
            return;
        }

        run.AdvanceWhenDone(Sink.WriteAsync(item, run.CancellationToken));
    }

    public override bool IsTransientFailure(Exception error) => Sink.IsTransient(error);
}

/// <summary>A step that writes to an output (the engine starts and stops every output once).</summary>
internal interface IWriteStep
{
    OutputSink Sink { get; }
}
