using Microsoft.Extensions.Logging;

namespace Meshinery;

/// <summary>What stopping the engine does about run scopes: waits for the disposals still under way, for a bounded time.</summary>
internal static class RunScopeDisposals
{
    public static async Task WaitAsync(IEnumerable<TaskDefinition> tasks, TimeSpan gracePeriod, TimeProvider time, ILogger logger)
    {
        var disposals = tasks.Select(t => t.Scopes?.WhenDisposed()).OfType<Task>().Where(t => !t.IsCompleted).ToList();
        if (disposals.Count == 0)
        {
            return;
        }

        Log.WaitingForScopeDisposals(logger, disposals.Count);
        try
        {
            await Task.WhenAll(disposals).WaitAsync(gracePeriod, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.ScopeDisposalsStuck(logger, disposals.Count(d => !d.IsCompleted), gracePeriod);
        }
    }
}
