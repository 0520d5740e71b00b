using Meshinery.Kafka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Meshinery.Kafka.Tests.Consuming;

[Collection(KafkaTests.Name)]
public class KafkaConfigurationTests(KafkaFixture kafka)
{
    [Fact]
    public async Task StartAsync_InputWithoutGroupId_FailsNamingGroupId()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = kafka.BootstrapServers)
            .AddTask<Order>("no-group", task => task.ReadFrom(new KafkaInput<Order>("orders"))));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        (await start.Should().ThrowAsync<MeshineryConfigurationException>())
            .Which.Setting.Should().Be("GroupId");
    }

    [Fact]
    public async Task StartAsync_NoBootstrapServersAnywhere_FailsNamingBootstrapServers()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .AddTask<Order>("no-servers", task => task.ReadFrom(new KafkaInput<Order>("orders", o => o.GroupId = "g"))));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.Setting.Should().Be("BootstrapServers");
        error.TaskName.Should().Be("no-servers");
    }

    [Fact]
    public async Task HostStart_UseKafkaWithEmptyBootstrapServers_FailsNamingTheSetting()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = " ")
            .AddTask<Order>("t", task => task.ReadFrom(new InMemoryInput<Order>())));
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .Which.Message.Should().Contain(nameof(KafkaOptions.BootstrapServers));
    }

    [Fact]
    public async Task StartAsync_UnknownLibrdkafkaSetting_FailsWithTheSettingsName()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.ConsumerConfig["no.such.setting"] = "1";
            })
            .AddTask<Order>("bad-setting", task => task.ReadFrom(new KafkaInput<Order>("orders", o => o.GroupId = "g"))));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        (await start.Should().ThrowAsync<Exception>()).Which.Message.Should().Contain("no.such.setting");
    }

    [Fact]
    public async Task BuildEngine_SeveralBadKafkaInputs_OneErrorListsEveryTaskAndSetting()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = kafka.BootstrapServers)
            .AddTask<Order>("no-group", task => task.ReadFrom(new KafkaInput<Order>("a")))
            .AddTask<Order>("bad-limit", task => task.ReadFrom(new KafkaInput<Order>("b", o =>
            {
                o.GroupId = "g";
                o.MaxPendingPerPartition = 0;
            }))));
        await using var provider = services.BuildServiceProvider();

        // Checked when the engine is built, before anything starts, together with the core's own checks.
        var build = () => provider.GetRequiredService<MeshineryEngine>();

        var error = build.Should().Throw<MeshineryConfigurationException>().Which;
        error.Message.Should().Contain("task 'no-group', setting GroupId: Kafka input 'a' has no consumer group")
            .And.Contain("task 'bad-limit', setting MaxPendingPerPartition: Kafka input 'b': must be at least 1 (was 0)");
    }

    [Fact]
    public async Task BuildEngine_LibrdkafkaAutoCommitTurnedOn_RefusedNamingTheSetting()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.ConsumerConfig["enable.auto.offset.store"] = "true";
            })
            .AddTask<Order>("auto", task => task.ReadFrom(new KafkaInput<Order>("a", o =>
            {
                o.GroupId = "g";
                o.ConsumerConfig["enable.auto.commit"] = "true";
            })))
            .AddTask<Order>("kept-off", task => task.ReadFrom(new KafkaInput<Order>("b", o =>
            {
                o.GroupId = "g2";
                o.ConsumerConfig["enable.auto.commit"] = "false";
            }))));
        await using var provider = services.BuildServiceProvider();

        var build = () => provider.GetRequiredService<MeshineryEngine>();

        var error = build.Should().Throw<MeshineryConfigurationException>().Which;
        error.Message.Should().Contain("task 'auto', setting ConsumerConfig[enable.auto.commit]: Kafka input 'a': 'enable.auto.commit' must stay false (was 'true')")
            .And.Contain("setting KafkaOptions.ConsumerConfig[enable.auto.offset.store]: Kafka input 'a': 'enable.auto.offset.store' must stay false")
            .And.NotContain("Kafka input 'b': 'enable.auto.commit'", "setting it to false is allowed");
    }
}
