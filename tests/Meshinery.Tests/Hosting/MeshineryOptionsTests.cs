using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Meshinery.Tests.Hosting;

/// <summary>Engine options: documented defaults, and validation that names the bad setting.</summary>
public class MeshineryOptionsTests
{
    [Fact]
    public void Defaults_AreTheDocumentedValues()
    {
        var options = new MeshineryOptions();

        options.WorkerThreads.Should().Be(64);
        options.MaxInFlight.Should().Be(10_000);
        options.DrainTimeout.Should().Be(TimeSpan.FromSeconds(20));
        options.CancellationGracePeriod.Should().Be(TimeSpan.FromSeconds(5));
        options.IdlePollInterval.Should().Be(TimeSpan.FromMilliseconds(250));
        options.ErrorBackoff.Should().Be(TimeSpan.FromMilliseconds(100));
        options.MaxErrorBackoff.Should().Be(TimeSpan.FromSeconds(30));
        options.ErrorBackoffJitter.Should().Be(0.5);
        options.StopWhenDrained.Should().BeFalse();
        options.StopApplicationWhenStopped.Should().BeTrue();
    }

    public static TheoryData<string, Action<MeshineryOptions>> InvalidOptions => new()
    {
        { "WorkerThreads", o => o.WorkerThreads = 0 },
        { "WorkerThreads", o => o.WorkerThreads = 10_001 },
        { "MaxInFlight", o => o.MaxInFlight = 0 },
        { "DrainTimeout", o => o.DrainTimeout = TimeSpan.FromSeconds(-1) },
        { "CancellationGracePeriod", o => o.CancellationGracePeriod = TimeSpan.FromSeconds(-1) },
        { "IdlePollInterval", o => o.IdlePollInterval = TimeSpan.Zero },
        { "ErrorBackoff", o => o.ErrorBackoff = TimeSpan.FromSeconds(-1) },
        { "MaxErrorBackoff", o => o.MaxErrorBackoff = TimeSpan.FromMilliseconds(50) },
        { "ErrorBackoffJitter", o => o.ErrorBackoffJitter = -0.1 },
        { "ErrorBackoffJitter", o => o.ErrorBackoffJitter = 1.5 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validation_InvalidValue_FailsNamingTheOption(string option, Action<MeshineryOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.Configure(configure));
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<MeshineryOptions>>().Value;

        read.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain(option);
    }

    [Fact]
    public void Validation_InvalidValue_EngineCannotBeCreated()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .Configure(o => o.MaxInFlight = 0)
            .AddTask<int>("valid", task => task.ReadFrom(new ScriptedInput<int>())));
        using var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("MaxInFlight");
    }

    [Fact]
    public void Validation_EdgeValues_AreAccepted()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.Configure(o =>
        {
            o.WorkerThreads = 1;
            o.MaxInFlight = 1;
            o.DrainTimeout = TimeSpan.Zero;
            o.CancellationGracePeriod = TimeSpan.Zero;
            o.IdlePollInterval = TimeSpan.FromMilliseconds(1);
            o.ErrorBackoff = TimeSpan.Zero;
            o.MaxErrorBackoff = TimeSpan.Zero;
            o.ErrorBackoffJitter = 1;
        }));
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<MeshineryOptions>>().Value;

        read.Should().NotThrow();
    }
}
