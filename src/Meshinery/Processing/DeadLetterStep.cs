namespace Meshinery;

/// <summary>The pseudo-step that writes a run's <see cref="ProcessingFailure"/> to the task's dead-letter output.</summary>
internal sealed class DeadLetterStep(OutputSink<ProcessingFailure> sink) : Step("dead-letter", typeof(ProcessingFailure))
{
    public override bool IsProcessor => false;

    public override void Execute(TaskRun run)
    {
        var write = sink.WriteAsync(run.Failure!, run.CancellationToken);
        if (write.IsCompletedSuccessfully)
        {
            write.GetAwaiter().GetResult(); // a ValueTask backed by a pooled source is recycled only by GetResult
            Written(run);
        }
        else
        {
            run.AwaitPending(write.AsTask());
        }
    }

    public override void CompletePending(TaskRun run, Task pending)
    {
        pending.GetAwaiter().GetResult();
        Written(run);
    }

    public override bool IsTransientFailure(Exception error) => sink.IsTransient(error);

    private static void Written(TaskRun run)
    {
        run.DeadLettered = true;
        run.Finish(RunOutcome.Failed);
    }
}
