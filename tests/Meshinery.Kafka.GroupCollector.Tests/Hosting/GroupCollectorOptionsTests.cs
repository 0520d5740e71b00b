using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Kafka.GroupCollector.Tests.Hosting;

public class GroupCollectorOptionsTests
{
    public static TheoryData<string, Action<GroupCollectorOptions>> Invalid => new()
    {
        { "GroupCollectorOptions.Topic", o => o.Topic = " " },
        { "GroupCollectorOptions.GroupId", o => o.GroupId = "" },
        { "GroupCollectorOptions.DefaultTtl", o => o.DefaultTtl = TimeSpan.Zero },
        { "GroupCollectorOptions.DefaultTtl", o => o.DefaultTtl = TimeSpan.FromDays(8) },
        { "GroupCollectorOptions.MaxTtl", o => o.MaxTtl = TimeSpan.FromDays(400) },
        { "GroupCollectorOptions.OrphanWait", o => o.OrphanWait = TimeSpan.FromSeconds(-1) },
        { "GroupCollectorOptions.ResolvedRetention", o => o.ResolvedRetention = TimeSpan.FromSeconds(-1) },
        { "GroupCollectorOptions.MaxOpenGroups", o => o.MaxOpenGroups = 0 },
        { "GroupCollectorOptions.MaxExpectedEntities", o => o.MaxExpectedEntities = 0 },
        { "GroupCollectorOptions.RestoreTimeout", o => o.RestoreTimeout = TimeSpan.Zero },
        { "GroupCollectorOptions.MaxInFlight", o => o.MaxInFlight = 0 },
        { "GroupCollectorOptions.InternalTopic", o => o.InternalTopic = o.Topic },
        { "GroupCollectorOptions.InternalTopic", o => o.ChangelogTopic = o.InternalTopicName },
        { "GroupCollectorOptions.OutputTopic", o => o.OutputTopic = o.ChangelogTopicName },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void AddGroupCollector_InvalidSetting_ThrowsNamingTheTaskAndTheSetting(string setting, Action<GroupCollectorOptions> configure)
    {
        var services = new ServiceCollection();

        var add = () => services.AddMeshinery(mesh => mesh.AddGroupCollector(configure));

        var error = add.Should().Throw<MeshineryConfigurationException>().Which;
        error.Setting.Should().Be(setting);
        error.TaskName.Should().Be("group-collector.collect");
    }

    [Fact]
    public void Defaults_AreTheSeedsTopicAndTtl()
    {
        var options = new GroupCollectorOptions();

        options.Topic.Should().Be("eventbus-collector");
        options.OutputTopicName.Should().Be("eventbus-collector", "results go to the same topic, as in the seed");
        options.DefaultTtl.Should().Be(TimeSpan.FromSeconds(30));
        options.InternalTopicName.Should().Be("eventbus-collector.collector-groups");
        options.ChangelogTopicName.Should().Be("eventbus-collector.collector-changelog");
        options.DeadLetterTopicName.Should().Be("eventbus-collector.collector-dead-letters");
    }
}
