using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Tests.Scheduling;

public class SmokeTests
{
    [Fact]
    public async Task Engine_ThreeSteps_AllItemsArrive()
    {
        var input = new InMemoryInput<int>();
        var output = new InMemoryOutput<string>();
        var services = new ServiceCollection();
        services.AddMeshinery(m => m.AddTask<int>("smoke", t => t
            .ReadFrom(input)
            .Process(i => i + 1)
            .Process(async (i, ct) => { await Task.Yield(); return i * 2; })
            .Process(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WriteTo(output)));
        await using var sp = services.BuildServiceProvider();
        var engine = sp.GetRequiredService<MeshineryEngine>();
        await engine.StartAsync();
        for (var i = 0; i < 1000; i++) await input.WriteAsync(i);
        input.Complete();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await input.AllAcknowledged.WaitAsync(cts.Token);
        await engine.StopAsync();
        output.Count.Should().Be(1000);
    }
}
