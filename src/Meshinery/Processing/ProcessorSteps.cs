namespace Meshinery;

/// <summary>A synchronous processor: may block (sleeps, synchronous I/O); it runs on a worker thread.</summary>
internal sealed class SyncStep<TIn, TOut>(string name, Func<TIn, TOut> process) : Step(name, typeof(TOut))
{
    public override void Execute(TaskRun run) => run.Continue(process(run.GetItem<TIn>()));

    public override string? Validate() => AwaitableResult.Problem(Name, typeof(TOut));
}

/// <summary>Catches a synchronous step whose lambda returns a task: it would pass the task on unawaited.</summary>
internal static class AwaitableResult
{
    public static string? Problem(string stepName, Type type) => IsAwaitable(type)
        ? $"step '{stepName}' returns a {(type.IsGenericType ? type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)] : type.Name)}: an asynchronous step takes (item, cancellationToken) and returns a ValueTask"
        : null;

    private static bool IsAwaitable(Type type) =>
        typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask) ||
        (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>));
}

/// <summary>An asynchronous processor; its continuations run wherever its awaits resume (the .NET thread pool).</summary>
internal sealed class AsyncStep<TIn, TOut>(string name, Func<TIn, CancellationToken, ValueTask<TOut>> process)
    : Step(name, typeof(TOut))
{
    public override void Execute(TaskRun run)
    {
        var result = process(run.GetItem<TIn>(), run.CancellationToken);
        if (result.IsCompletedSuccessfully)
        {
            run.Continue(result.Result);
        }
        else
        {
            run.AwaitPending(result.AsTask());
        }
    }

    public override void CompletePending(TaskRun run, Task pending) =>
        run.Continue(((Task<TOut>)pending).GetAwaiter().GetResult());
}

/// <summary>Drops items for which the predicate is false.</summary>
internal sealed class FilterStep<T>(string name, Func<T, bool> predicate) : Step(name, typeof(T))
{
    public override void Execute(TaskRun run)
    {
        if (predicate(run.GetItem<T>()))
        {
            run.Advance();
        }
        else
        {
            run.Drop();
        }
    }
}

/// <summary>A side effect; the item passes on unchanged.</summary>
internal sealed class SideEffectStep<T> : Step
{
    private readonly Action<T>? _action;
    private readonly Func<T, CancellationToken, ValueTask>? _asyncAction;

    public SideEffectStep(string name, Action<T> action)
        : base(name, typeof(T)) => _action = action;

    public SideEffectStep(string name, Func<T, CancellationToken, ValueTask> action)
        : base(name, typeof(T)) => _asyncAction = action;

    public override void Execute(TaskRun run)
    {
        var item = run.GetItem<T>();
        if (_action is not null)
        {
            _action(item);
            run.Advance();
            return;
        }

        run.AdvanceWhenDone(_asyncAction!(item, run.CancellationToken));
    }
}
