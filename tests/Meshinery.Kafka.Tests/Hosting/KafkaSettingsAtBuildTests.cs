using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka.Tests.Hosting;

/// <summary>
/// Output settings resolved at engine build with the inputs', librdkafka's refusal of a property named with its input or
/// output, and what <see cref="KafkaOptions.Assignment"/> accepts.
/// </summary>
[Collection(KafkaTests.Name)]
public class KafkaSettingsAtBuildTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task BuildEngine_OutputsAndInputWithoutSettings_OneErrorListsTheOutputsWithTheInput()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .AddTask<Order>("writer", task => task
                .ReadFrom(new InMemoryInput<Order>())
                .DeadLetterTo(new KafkaDeadLetterOutput("writer-dlq"))
                .WriteTo(new KafkaOutput<Order>("priced")))
            .AddTask<Order>("reader", task => task.ReadFrom(new KafkaInput<Order>("orders", o => o.BootstrapServers = kafka.BootstrapServers))));
        await using var provider = services.BuildServiceProvider();

        // Before anything starts: building the engine checks the outputs with the inputs.
        var build = () => provider.GetRequiredService<MeshineryEngine>();

        build.Should().Throw<MeshineryConfigurationException>().Which.Message
            .Should().Contain("task 'writer', setting BootstrapServers: Kafka output 'priced' has no bootstrap servers")
            .And.Contain("task 'writer', setting BootstrapServers: Kafka output 'writer-dlq' has no bootstrap servers")
            .And.Contain("task 'reader', setting GroupId: Kafka input 'orders' has no consumer group");
    }

    [Fact]
    public async Task StartAsync_MisspeltProducerProperty_FailsNamingTaskOutputAndProperty()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = kafka.BootstrapServers)
            .AddTask<Order>("misspelt", task => task
                .ReadFrom(new InMemoryInput<Order>())
                .WriteTo(new KafkaOutput<Order>("priced", o => o.ProducerConfig["partitoner"] = "murmur2"))));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.TaskName.Should().Be("misspelt");
        error.Setting.Should().Be("ProducerConfig[\"partitoner\"]");
        error.Message.Should().Contain("Kafka output 'priced'").And.Contain("No such configuration property: \"partitoner\"");
    }

    [Fact]
    public async Task StartAsync_MisspeltSharedProducerProperty_FailsNamingKafkaOptionsAndTheDeadLetterOutput()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.ProducerConfig["lingr.ms"] = "5";
            })
            .AddTask<Order>("shared-misspelt", task => task
                .ReadFrom(new InMemoryInput<Order>())
                .DeadLetterTo(new KafkaDeadLetterOutput("failures"))
                .Do(_ => { })));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.TaskName.Should().Be("shared-misspelt");
        error.Setting.Should().Be("KafkaOptions.ProducerConfig[\"lingr.ms\"]", "the property is in the shared settings only");
        error.Message.Should().Contain("Kafka output 'failures'");
    }

    [Fact]
    public async Task StartAsync_MisspeltConsumerPropertyOnTheInput_FailsNamingTaskInputAndProperty()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options => options.BootstrapServers = kafka.BootstrapServers)
            .AddTask<Order>("misspelt-in", task => task
                .ReadFrom(new KafkaInput<Order>("orders", o =>
                {
                    o.GroupId = KafkaFixture.UniqueName("group");
                    o.ConsumerConfig["fetch.wait.max.msec"] = "10";
                }))
                .Do(_ => { })));
        await using var provider = services.BuildServiceProvider();

        var start = () => provider.GetRequiredService<MeshineryEngine>().StartAsync();

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.TaskName.Should().Be("misspelt-in");
        error.Setting.Should().Be("ConsumerConfig[\"fetch.wait.max.msec\"]");
        error.Message.Should().Contain("Kafka input 'orders'").And.Contain("fetch.wait.max.msec");
    }

    [Fact]
    public async Task BuildEngine_StaticAssignmentInKafkaOptions_FailsNamingTheSharedSetting()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.Assignment = PartitionAssignment.Static(new TopicPartition("orders", 0));
            })
            .AddTask<Order>("shared-static", task => task.ReadFrom(new KafkaInput<Order>("orders", o => o.GroupId = "g")).Do(_ => { })));
        await using var provider = services.BuildServiceProvider();

        var build = () => provider.GetRequiredService<MeshineryEngine>();

        var error = build.Should().Throw<MeshineryConfigurationException>().Which;
        error.Setting.Should().Be("KafkaOptions.Assignment");
        error.Message.Should().Contain("task 'shared-static', setting KafkaOptions.Assignment: Kafka input 'orders' sets no Assignment of its own")
            .And.Contain("set it on the input (KafkaInputOptions.Assignment)");
    }

    [Fact]
    public async Task Start_ByInstanceAssignmentInKafkaOptions_EachInputReadsItsShareOfItsOwnTopic()
    {
        var first = await kafka.CreateTopicAsync("shared-custom-a", 4);
        var second = await kafka.CreateTopicAsync("shared-custom-b", 2);
        var assigned = new System.Collections.Concurrent.ConcurrentDictionary<string, IReadOnlyList<TopicPartition>>();
        var a = new KafkaInput<Order>(first, o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.PartitionsAssigned = partitions => assigned[first] = partitions;
        });
        var b = new KafkaInput<Order>(second, o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.PartitionsAssigned = partitions => assigned[second] = partitions;
        });

        await using var engine = await TestEngine.StartAsync(
            kafka,
            mesh => mesh
                .AddTask<Order>("a", task => task.ReadFrom(a).Do(_ => { }))
                .AddTask<Order>("b", task => task.ReadFrom(b).Do(_ => { })),
            options => options.Assignment = PartitionAssignment.ByInstance(1, 2));

        (await Eventually.HoldsAsync(() => assigned.Count == 2, Deadline)).Should().BeTrue("a shared custom assignment is accepted and applied to both inputs");
        assigned[first].Select(p => p.Partition.Value).Should().BeEquivalentTo([1, 3]);
        assigned[second].Select(p => p.Partition.Value).Should().BeEquivalentTo([1]);
    }
}
