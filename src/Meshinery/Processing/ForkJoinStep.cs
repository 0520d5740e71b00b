namespace Meshinery;

/// <summary>
/// Runs several branches on the same input concurrently, each started on the task's worker pool (so a branch that
/// blocks before its first await still runs in parallel with the others), then joins their results. The branches
/// inherit the run's execution context: <see cref="TaskRunContext.Current"/>, task data and log scope.
/// </summary>
internal sealed class ForkJoinStep<TIn, TBranch, TOut>(
    string name,
    IReadOnlyList<Func<TIn, CancellationToken, ValueTask<TBranch>>> branches,
    Func<TIn, TBranch[], TOut> join) : Step(name, typeof(TOut))
{
    public override void Execute(TaskRun run)
    {
        var item = run.GetItem<TIn>();
        var scheduler = run.Task.WorkersFor(run).Scheduler;
        var token = run.CancellationToken;
        var started = new Task<TBranch>[branches.Count];
        for (var i = 0; i < started.Length; i++)
        {
            var branch = branches[i];
            started[i] = Task.Factory
                .StartNew(() => branch(item, token).AsTask(), token, TaskCreationOptions.DenyChildAttach, scheduler)
                .Unwrap();
        }

        run.AwaitPending(JoinAsync(item, started));
    }

    public override void CompletePending(TaskRun run, Task pending) =>
        run.Continue(((Task<TOut>)pending).GetAwaiter().GetResult());

    public override string? Validate() => branches.Count == 0 ? $"fork '{Name}' has no branch" : null;

    private async Task<TOut> JoinAsync(TIn item, Task<TBranch>[] started)
    {
        var results = await Task.WhenAll(started).ConfigureAwait(false);
        return join(item, results);
    }
}
