using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Meshinery.Tests.Hosting;

/// <summary>The hosted service starts and stops the engine with the host, and stops the host when the engine stops by itself.</summary>
public class HostedServiceTests
{
    [Fact]
    public async Task Host_StartAndStop_StartsAndStopsTheEngine()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        var output = new InMemoryOutput<int>();
        using var host = BuildHost(mesh => mesh.AddTask<int>("hosted", task => task.ReadFrom(input).WriteTo(output)));

        await host.StartAsync().Within("the host to start");
        await input.WaitForAcknowledgementsAsync(10);
        await host.StopAsync().Within("the host to stop");

        var engine = host.Services.GetRequiredService<MeshineryEngine>();
        engine.Completion.IsCompletedSuccessfully.Should().BeTrue();
        input.StartCount.Should().Be(1);
        input.StopCount.Should().Be(1);
        output.Count.Should().Be(10);
    }

    [Fact]
    public async Task Host_BatchModeDrained_StopsTheApplication()
    {
        var input = new InMemoryInput<int>();
        for (var i = 0; i < 100; i++)
        {
            await input.WriteAsync(i);
        }

        input.Complete();
        var output = new InMemoryOutput<int>();
        using var host = BuildHost(
            mesh => mesh.AddTask<int>("hosted-batch", task => task.ReadFrom(input).Process(i => i + 1).WriteTo(output)),
            options => options.StopWhenDrained = true);

        var engine = host.Services.GetRequiredService<MeshineryEngine>();

        await host.RunAsync().Within("the host to run the batch and stop by itself");

        output.Count.Should().Be(100);
        input.Completed.Should().Be(100);
        engine.Completion.IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task Host_SourceReportsFatalError_StopsTheApplication()
    {
        var input = new ScriptedInput<int>();
        using var host = BuildHost(mesh => mesh.AddTask<int>("hosted-fatal", task => task.ReadFrom(input)));
        await host.StartAsync().Within("the host to start");
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        input.Context!.ReportFatalError(new InvalidOperationException("unrecoverable"));

        await host.WaitForShutdownAsync().Within("the fatal error to stop the application");
        lifetime.ApplicationStopping.IsCancellationRequested.Should().BeTrue();
        var completion = () => host.Services.GetRequiredService<MeshineryEngine>().Completion;
        await completion.Should().ThrowAsync<InvalidOperationException>().WithMessage("unrecoverable");
    }

    [Fact]
    public async Task Host_InvalidWorkerThreadsOption_StartFailsNamingTheOption()
    {
        using var host = BuildHost(
            mesh => mesh.AddTask<int>("options", task => task.ReadFrom(new ScriptedInput<int>())),
            options => options.WorkerThreads = 0);

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("WorkerThreads");
    }

    public static TheoryData<string, string, Action<MeshineryBuilder>> InvalidTasks => new()
    {
        { "Bad Name", "Name", mesh => mesh.AddTask<int>("Bad Name", task => task.ReadFrom(new ScriptedInput<int>())) },
        { "twin", "Name", mesh => mesh
            .AddTask<int>("twin", task => task.ReadFrom(new ScriptedInput<int>()))
            .AddTask<int>("twin", task => task.ReadFrom(new ScriptedInput<int>())) },
        { "no-input", "ReadFrom", mesh => mesh.AddTask<int>("no-input", task => task.Process(i => i)) },
        { "no-slots", "MaxInFlight", mesh => mesh.AddTask<int>("no-slots", task => task.ReadFrom(new ScriptedInput<int>()).WithMaxInFlight(0)) },
        { "negative-retry", "Retry.Delay", mesh => mesh.AddTask<int>("negative-retry", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithRetry(3, TimeSpan.FromSeconds(-1))) },
        { "reserved", "Data", mesh => mesh.AddTask<int>("reserved", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WithData("meshinery.custom", "x")) },
    };

    [Theory]
    [MemberData(nameof(InvalidTasks))]
    public async Task Host_InvalidTask_StartFailsNamingTaskAndSetting(string taskName, string setting, Action<MeshineryBuilder> configure)
    {
        using var host = BuildHost(configure);

        var start = () => host.StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.TaskName.Should().Be(taskName);
        error.Setting.Should().Be(setting);
        error.Message.Should().Contain($"task '{taskName}', setting {setting}");
    }

    [Fact]
    public async Task Host_SourceFailsToStart_StartFailsAndTheHostStillStopsAndDisposes()
    {
        var failing = new FailingStartInput();
        var host = BuildHost(mesh => mesh.AddTask<int>("hosted-bad-start", task => task.ReadFrom(failing)));

        var start = () => host.StartAsync();
        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("cannot connect");

        await host.StopAsync().Within("the host to stop after a failed start");
        await ((IAsyncDisposable)host).DisposeAsync().AsTask().Within("the host to dispose after a failed start");
    }

    [Fact]
    public async Task AddMeshinery_Logging_EngineLogsStartAndStop()
    {
        using var host = BuildHost(mesh => mesh.AddTask<int>("hosted-logs", task => task.ReadFrom(new ScriptedInput<int>())));

        await host.StartAsync().Within("the host to start");
        await host.StopAsync().Within("the host to stop");

        var messages = host.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "Meshinery").Select(r => r.Message).ToList();
        messages.Should().Contain("Meshinery started 1 task(s) with 64 shared worker thread(s)");
        messages.Should().Contain(m => m.StartsWith("Meshinery is stopping", StringComparison.Ordinal));
        messages.Should().Contain("Meshinery stopped");
    }

    private static IHost BuildHost(
        Action<MeshineryBuilder> configure,
        Action<MeshineryOptions>? options = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddFakeLogging();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddMeshinery(mesh =>
        {
            if (options is not null)
            {
                mesh.Configure(options);
            }

            configure(mesh);
        });
        return builder.Build();
    }

    private sealed class FailingStartInput() : InputSource<int>("failing-start")
    {
        public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken) =>
            ValueTask.FromException(new InvalidOperationException("cannot connect"));

        public override int Poll(Span<SourceItem<int>> buffer) => 0;
    }
}
