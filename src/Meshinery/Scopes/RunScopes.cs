using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>
/// The service scopes of one task's runs: a scoped step asks it for the run's scope, which is created on the first
/// such request of the run (runs that never reach a scoped step create none) and disposed, asynchronously and off the
/// run loop, when the run ends. It counts the disposals under way so that stopping the engine can wait for them.
/// </summary>
internal sealed class RunScopes
{
    private readonly IServiceScopeFactory _factory;
    private readonly IServiceProviderIsService? _isService;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private int _disposing;
    private TaskCompletionSource? _idle;

    public RunScopes(IServiceProvider services, string taskName)
    {
        _factory = services.GetRequiredService<IServiceScopeFactory>();
        _isService = services.GetService<IServiceProviderIsService>();
        _logger = (services.GetService<ILoggerFactory>() ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Meshinery");
        TaskName = taskName;
    }

    public string TaskName { get; }

    /// <summary>Resolves <typeparamref name="TService"/> from the run's scope, creating the scope if the run has none yet.</summary>
    public TService Resolve<TService>(TaskRunContext run)
        where TService : notnull =>
        run.GetOrCreateScope(this).ServiceProvider.GetRequiredService<TService>();

    public AsyncServiceScope CreateScope() => _factory.CreateAsyncScope();

    /// <summary>A problem with a step that takes <paramref name="service"/>, or <see langword="null"/>.</summary>
    public string? Validate(Type service, string stepName) =>
        _isService is not null && !_isService.IsService(service)
            ? $"step '{stepName}' takes a {TypeNames.Of(service)}, which is not registered in the application's services; register it (for example services.AddScoped<{TypeNames.Of(service)}, …>()) before the engine is created"
            : null;

    /// <summary>
    /// Disposes a run's scope on the thread pool (a service's Dispose may block; the run loop must not), in the run's
    /// execution context, so that what disposal logs carries the run's log scope.
    /// </summary>
    public void DisposeInBackground(AsyncServiceScope scope, TaskRunContext run, ExecutionContext? context)
    {
        lock (_lock)
        {
            _disposing++;
        }

        var disposal = new Disposal(this, scope, run);
        if (context is null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static d => d.Start(), disposal, preferLocal: false);
        }
        else
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static d => ExecutionContext.Run(d.Context!, static state => ((Disposal)state!).Start(), d),
                disposal with { Context = context },
                preferLocal: false);
        }
    }

    /// <summary>Completes when no scope disposal is under way.</summary>
    public Task WhenDisposed()
    {
        lock (_lock)
        {
            if (_disposing == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    private void Disposed()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (--_disposing == 0)
            {
                idle = _idle;
                _idle = null;
            }
        }

        idle?.TrySetResult();
    }

    private sealed record Disposal(RunScopes Owner, AsyncServiceScope Scope, TaskRunContext Run)
    {
        public ExecutionContext? Context { get; init; }

        public void Start() => _ = DisposeAsync();

        private async Task DisposeAsync()
        {
            try
            {
                await Scope.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception error)
            {
                Log.ScopeDisposeFailed(Owner._logger, error, Owner.TaskName, Run.RunId, Run.Position);
            }
            finally
            {
                Owner.Disposed();
            }
        }
    }
}

/// <summary>Type names as users write them: <c>IRepository&lt;Order&gt;</c>.</summary>
internal static class TypeNames
{
    public static string Of(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.Name;
        }

        var name = type.Name;
        var tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(Of)) + ">";
    }
}
