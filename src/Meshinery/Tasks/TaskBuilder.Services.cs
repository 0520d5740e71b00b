namespace Meshinery;

/// <content>Steps that take a service from a dependency-injection scope of their run.</content>
public sealed partial class TaskBuilder<TInput, T>
{
    /// <summary>
    /// Adds a synchronous processor that takes a <typeparamref name="TService"/> from the run's service scope (for example
    /// a scoped <c>DbContext</c>): <c>.Process&lt;IFraudCheck, Verdict&gt;((fraud, order) =&gt; fraud.Check(order))</c>, or with
    /// typed parameters and no type arguments, <c>.Process((IFraudCheck fraud, Order order) =&gt; fraud.Check(order))</c>.
    /// Each run has one scope, created when its first such step runs (runs that never reach one create none) and shared
    /// by every step of the run, retries included; it is disposed (asynchronously, <c>IAsyncDisposable</c> first) when
    /// the run ends: completed, dropped, failed (after the error handler or the dead-letter write) or abandoned at
    /// shutdown. Otherwise like <see cref="Process{TOut}(Func{T, TOut}, string?)"/>: it may block.
    /// </summary>
    /// <typeparam name="TService">The service; it must be registered (any lifetime), which is checked at start.</typeparam>
    /// <typeparam name="TOut">The type it returns.</typeparam>
    /// <param name="processor">The processor; it receives the service and the item.</param>
    /// <param name="name">The step's name. Default: <c>process-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> Process<TService, TOut>(Func<TService, T, TOut> processor, string? name = null)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(processor);
        return ScopedStep<TOut>(scopes => new ScopedSyncStep<TService, T, TOut>(StepName(name, "process"), scopes, processor));
    }

    /// <summary>
    /// Adds an asynchronous processor that takes a <typeparamref name="TService"/> from the run's service scope (see
    /// <see cref="Process{TService, TOut}(Func{TService, T, TOut}, string?)"/> for the scope's life). Otherwise like
    /// <see cref="Process{TOut}(Func{T, CancellationToken, ValueTask{TOut}}, string?)"/>.
    /// </summary>
    /// <typeparam name="TService">The service; it must be registered (any lifetime), which is checked at start.</typeparam>
    /// <typeparam name="TOut">The type it returns.</typeparam>
    /// <param name="processor">The processor; it receives the service, the item and the run's cancellation token.</param>
    /// <param name="name">The step's name. Default: <c>process-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> Process<TService, TOut>(Func<TService, T, CancellationToken, ValueTask<TOut>> processor, string? name = null)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(processor);
        return ScopedStep<TOut>(scopes => new ScopedAsyncStep<TService, T, TOut>(StepName(name, "process"), scopes, processor));
    }

    /// <summary>
    /// Adds a synchronous side effect that takes a <typeparamref name="TService"/> from the run's service scope:
    /// <c>.Do&lt;IAuditLog&gt;((audit, order) =&gt; audit.Record(order))</c>; the item passes on unchanged. See
    /// <see cref="Process{TService, TOut}(Func{TService, T, TOut}, string?)"/> for the scope's life.
    /// </summary>
    /// <typeparam name="TService">The service; it must be registered (any lifetime), which is checked at start.</typeparam>
    /// <param name="action">The side effect; it may block.</param>
    /// <param name="name">The step's name. Default: <c>do-N</c>.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> Do<TService>(Action<TService, T> action, string? name = null)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(action);
        return ScopedStep<T>(scopes => new ScopedSideEffectStep<TService, T>(StepName(name, "do"), scopes, action));
    }

    /// <summary>
    /// Adds an asynchronous side effect that takes a <typeparamref name="TService"/> from the run's service scope; the
    /// item passes on unchanged. See <see cref="Process{TService, TOut}(Func{TService, T, TOut}, string?)"/> for the
    /// scope's life.
    /// </summary>
    /// <typeparam name="TService">The service; it must be registered (any lifetime), which is checked at start.</typeparam>
    /// <param name="action">The side effect; it receives the service, the item and the run's cancellation token.</param>
    /// <param name="name">The step's name. Default: <c>do-N</c>.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> Do<TService>(Func<TService, T, CancellationToken, ValueTask> action, string? name = null)
        where TService : notnull
    {
        ArgumentNullException.ThrowIfNull(action);
        return ScopedStep<T>(scopes => new ScopedSideEffectStep<TService, T>(StepName(name, "do"), scopes, action));
    }

    private TaskBuilder<TInput, TNext> ScopedStep<TNext>(Func<RunScopes, Step> create)
    {
        if (_task.GetRunScopes() is not { } scopes)
        {
            _task.BuilderProblems.Add("a step that takes a service needs the application's services; add the task with AddMeshinery");
            return new TaskBuilder<TInput, TNext>(_task, _pipeline);
        }

        return Then<TNext>(create(scopes));
    }
}
