using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Testing.Tests;

/// <summary><see cref="MeshineryTestHost"/> as a user testing their own task would use it.</summary>
public class MeshineryTestHostTests
{
    private sealed record Order(string Id, decimal Amount);

    private sealed record PricedOrder(string Id, decimal Price);

    private interface IPricing
    {
        decimal Price(Order order);
    }

    private sealed class FixedRate : IPricing
    {
        public decimal Price(Order order) => order.Amount * 1.19m;
    }

    [Fact]
    public async Task InjectAsync_TaskResolvingAService_ReturnsEachOutcomeAndWritesTheOutput()
    {
        var output = new InMemoryOutput<PricedOrder>();
        await using var host = MeshineryTestHost.Create(
            mesh => mesh.AddTask<Order>("price", (services, task) =>
            {
                var pricing = services.GetRequiredService<IPricing>();
                task.ReadFrom(new InMemoryInput<Order>())
                    .Where(o => o.Amount > 0)
                    .Process(o => new PricedOrder(o.Id, pricing.Price(o)), "price")
                    .WriteTo(output);
            }),
            services: s => s.AddSingleton<IPricing, FixedRate>());
        await host.StartAsync();

        var priced = await host.InjectAsync("price", new Order("1", 10m));
        var dropped = await host.InjectAsync("price", new Order("2", 0m));

        priced.Outcome.Should().Be(RunOutcome.Completed);
        priced.Output.Should().Be(new PricedOrder("1", 11.90m));
        dropped.Outcome.Should().Be(RunOutcome.Dropped);
        output.Items.Should().Equal(new PricedOrder("1", 11.90m));
        host.Logs.GetSnapshot().Should().Contain(r => r.Id.Id == 1 && r.Level == LogLevel.Information, "the engine's start is logged");
    }

    [Fact]
    public async Task InjectAsync_RetryOnTheManualClock_RetriesWhenTheClockPassesTheBackoff()
    {
        var time = new ManualTimeProvider();
        var attempts = 0;
        await using var host = MeshineryTestHost.Create(
            mesh => mesh.AddTask<int>("flaky", task => task
                .ReadFrom(new InMemoryInput<int>())
                .WithRetry(3, TimeSpan.FromSeconds(10))
                .Process(i => Interlocked.Increment(ref attempts) == 1 ? throw new TimeoutException("once") : i * 2)),
            timeProvider: time);
        await host.StartAsync();

        var run = host.InjectAsync("flaky", 21);
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        run.IsCompleted.Should().BeFalse("the retry waits for the backoff");
        time.Advance(TimeSpan.FromSeconds(10));

        (await run).Output.Should().Be(42);
        attempts.Should().Be(2);
    }

    [Fact]
    public async Task Create_InvalidTask_FailsWhenTheEngineIsFirstUsed()
    {
        await using var host = MeshineryTestHost.Create(mesh => mesh.AddTask<int>("no-input", task => task.Process(i => i)));

        var use = () => host.Engine;

        use.Should().Throw<MeshineryConfigurationException>().Which.Setting.Should().Be("ReadFrom");
    }
}
