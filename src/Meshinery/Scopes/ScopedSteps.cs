namespace Meshinery;

/// <summary>A synchronous processor that takes a service from the run's scope; it may block.</summary>
internal sealed class ScopedSyncStep<TService, TIn, TOut>(string name, RunScopes scopes, Func<TService, TIn, TOut> process)
    : Step(name, typeof(TOut))
    where TService : notnull
{
    public override void Execute(TaskRun run) =>
        run.Continue(process(scopes.Resolve<TService>(run.Context), run.GetItem<TIn>()));

    public override string? Validate() =>
        scopes.Validate(typeof(TService), Name) ?? AwaitableResult.Problem(Name, typeof(TOut));
}

/// <summary>An asynchronous processor that takes a service from the run's scope.</summary>
internal sealed class ScopedAsyncStep<TService, TIn, TOut>(
    string name, RunScopes scopes, Func<TService, TIn, CancellationToken, ValueTask<TOut>> process)
    : Step(name, typeof(TOut))
    where TService : notnull
{
    public override void Execute(TaskRun run)
    {
        var result = process(scopes.Resolve<TService>(run.Context), run.GetItem<TIn>(), run.CancellationToken);
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

    public override string? Validate() => scopes.Validate(typeof(TService), Name);
}

/// <summary>A side effect that takes a service from the run's scope; the item passes on unchanged.</summary>
internal sealed class ScopedSideEffectStep<TService, T> : Step
    where TService : notnull
{
    private readonly RunScopes _scopes;
    private readonly Action<TService, T>? _action;
    private readonly Func<TService, T, CancellationToken, ValueTask>? _asyncAction;

    public ScopedSideEffectStep(string name, RunScopes scopes, Action<TService, T> action)
        : base(name, typeof(T))
    {
        _scopes = scopes;
        _action = action;
    }

    public ScopedSideEffectStep(string name, RunScopes scopes, Func<TService, T, CancellationToken, ValueTask> action)
        : base(name, typeof(T))
    {
        _scopes = scopes;
        _asyncAction = action;
    }

    public override void Execute(TaskRun run)
    {
        var service = _scopes.Resolve<TService>(run.Context);
        var item = run.GetItem<T>();
        if (_action is not null)
        {
            _action(service, item);
            run.Advance();
            return;
        }

        run.AdvanceWhenDone(_asyncAction!(service, item, run.CancellationToken));
    }

    public override string? Validate() => _scopes.Validate(typeof(TService), Name);
}
