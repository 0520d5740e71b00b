using Meshinery.Kafka.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Consuming;

/// <summary>A Kafka input's <see cref="IReportInputHealth"/> as the health check sees it, on the embedded cluster.</summary>
[Collection(KafkaTests.Name)]
public class KafkaInputHealthTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task CheckHealth_GroupGivesTheOnlyPartitionToTheOtherMember_DegradedForTheInputWithoutPartitions()
    {
        var topic = await kafka.CreateTopicAsync("health-none", 1);
        var groupId = KafkaFixture.UniqueName("group");
        var (first, firstInput) = await StartAsync(topic, groupId);
        var (second, secondInput) = await StartAsync(topic, groupId);
        await using (first)
        await using (second)
        {
            (await Eventually.HoldsAsync(() => firstInput.AssignedPartitions + secondInput.AssignedPartitions == 1, Deadline))
                .Should().BeTrue("the group gives its one partition to one member");
            // The group may still be settling (a second rebalance can move the partition for a moment), so the reports
            // are read until both agree with the assignment they were read under, within the deadline.
            KafkaInput<Order> idleInput = firstInput;
            HealthReportEntry idleEntry = default, holderEntry = default;
            await Eventually.HoldsAsync(async () =>
            {
                var (idle, holder) = firstInput.AssignedPartitions == 0 ? (first, second) : (second, first);
                idleInput = idle == first ? firstInput : secondInput;
                (idleEntry, holderEntry) = (await CheckAsync(idle), await CheckAsync(holder));
                return holderEntry.Status == HealthStatus.Healthy && idleEntry.Status == HealthStatus.Degraded;
            }, Deadline);

            idleInput.GetHealthSnapshot().AssignedPartitions.Should().Be(0);
            idleEntry.Status.Should().Be(HealthStatus.Degraded);
            idleEntry.Description.Should().Contain($"input '{topic}'").And.Contain("no partitions for");
            holderEntry.Status.Should().Be(HealthStatus.Healthy, holderEntry.Description);
            holderEntry.Data[$"t/{topic}"].Should().BeOfType<string>().Which.Should().StartWith("ok, 1 partition(s)"); // an empty partition's lag is unknown until it is read
        }
    }

    [Fact]
    public async Task CheckHealth_WorkHeldThenReleased_LagCountsUnfinishedMessagesThenFallsToZero()
    {
        var topic = await kafka.CreateTopicAsync("health-lag", 2);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 100).Select(i => (i % 2, $"order-{i}", Order.Json(i))));
        using var gate = new ManualResetEventSlim();
        var (engine, input) = await StartAsync(topic, groupId, gate);
        await using (engine)
        {
            (await Eventually.HoldsAsync(() => input.GetHealthSnapshot() is { AssignedPartitions: 2, Lag: 100 }, Deadline))
                .Should().BeTrue("nothing is finished while the step waits, so all 100 messages lag (was {0})", input.GetHealthSnapshot());
            input.GetHealthSnapshot().LastProgressAt.Should().NotBeNull("messages were handed out");
            (await CheckAsync(engine)).Data[$"t/{topic}"].Should().Be("ok, 2 partition(s), lag 100");

            gate.Set();
            (await Eventually.HoldsAsync(() => input.GetHealthSnapshot().Lag == 0 && kafka.CommittedOffsets(groupId, topic).Values.Sum() == 100, Deadline))
                .Should().BeTrue("once every message is finished and committed the lag is 0 (was {0})", input.GetHealthSnapshot());
            var entry = await CheckAsync(engine);
            entry.Status.Should().Be(HealthStatus.Healthy);
            entry.Data[$"t/{topic}"].Should().Be("ok, 2 partition(s), lag 0");
        }
    }

    private static async Task<HealthReportEntry> CheckAsync(ServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync().WaitAsync(Deadline);
        return report.Entries["meshinery"];
    }

    /// <summary>An engine like <see cref="TestEngine"/>'s, with the Meshinery health check (no-partitions limit: 1 ms).</summary>
    private async Task<(ServiceProvider Services, KafkaInput<Order> Input)> StartAsync(string topic, string groupId, ManualResetEventSlim? gate = null)
    {
        var input = new KafkaInput<Order>(topic, o => o.GroupId = groupId);
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddHealthChecks().AddMeshinery(o => o.NoPartitionsTimeout = TimeSpan.FromMilliseconds(1));
        services.AddMeshinery(mesh => mesh
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.CommitInterval = TimeSpan.FromMilliseconds(200);
                options.ConsumerConfig["session.timeout.ms"] = "6000";
                options.ConsumerConfig["heartbeat.interval.ms"] = "500";
            })
            .AddTask<Order>("t", task => task.ReadFrom(input).Do(_ => gate?.Wait(Deadline))));
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<MeshineryEngine>().StartAsync();
        return (provider, input);
    }
}
