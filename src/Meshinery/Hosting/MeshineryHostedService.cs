using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Meshinery;

/// <summary>Starts the engine with the host and stops it with the host; stops the host when the engine stops by itself.</summary>
internal sealed class MeshineryHostedService(
    MeshineryEngine engine,
    IHostApplicationLifetime lifetime,
    IOptions<MeshineryOptions> options) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await engine.StartAsync(cancellationToken).ConfigureAwait(false);
        _ = engine.Completion.ContinueWith(
            _ =>
            {
                if (engine.StoppedByItself && options.Value.StopApplicationWhenStopped)
                {
                    lifetime.StopApplication();
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    public Task StopAsync(CancellationToken cancellationToken) => engine.StopAsync(cancellationToken);
}
