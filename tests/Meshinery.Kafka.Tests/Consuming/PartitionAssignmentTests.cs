using System.Collections.Concurrent;
using System.Globalization;
using Confluent.Kafka;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Consuming;

/// <summary>Typed assignment strategies and copartitioning, each with two engines (two instances) in one group.</summary>
[Collection(KafkaTests.Name)]
public class PartitionAssignmentTests(KafkaFixture kafka)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public static TheoryData<string> GroupProtocols => ["range", "roundrobin", "cooperative-sticky", "static-membership"];

    [Theory]
    [MemberData(nameof(GroupProtocols))]
    public async Task Assignment_GroupProtocol_TwoInstancesSplitThePartitionsAndProcessEverything(string protocol)
    {
        var topic = await kafka.CreateTopicAsync("assign-" + protocol, 4);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 200).Select(i => (i % 4, Key(i), Order.Json(i))));
        PartitionAssignment Assignment(string instance) => protocol switch
        {
            "range" => PartitionAssignment.Range,
            "roundrobin" => PartitionAssignment.RoundRobin,
            "cooperative-sticky" => PartitionAssignment.CooperativeSticky,
            _ => PartitionAssignment.StaticMembership(instance),
        };

        var (first, firstInput) = await StartAsync(topic, groupId, Assignment("instance-1"));
        var (second, secondInput) = await StartAsync(topic, groupId, Assignment("instance-2"));
        await using (first)
        await using (second)
        {
            (await Eventually.HoldsAsync(() => firstInput.AssignedPartitions == 2 && secondInput.AssignedPartitions == 2, Deadline))
                .Should().BeTrue("two members of one group split four partitions ({0} and {1})", firstInput.AssignedPartitions, secondInput.AssignedPartitions);
            (await Eventually.HoldsAsync(() => Finished(first) + Finished(second) >= 200 && Committed(groupId, topic) == 200, Deadline))
                .Should().BeTrue("every message is processed and committed");
        }

        first.Engine.Completion.IsFaulted.Should().BeFalse();
        second.Engine.Completion.IsFaulted.Should().BeFalse("static members have distinct instance ids and do not fence each other");
    }

    [Theory]
    [InlineData("static")]
    [InlineData("by-instance")]
    public async Task Assignment_WithoutGroupManagement_EachInstanceReadsOnlyItsPartitionsAndCommitsThem(string kind)
    {
        var topic = await kafka.CreateTopicAsync("self-assign", 4);
        var groupId = KafkaFixture.UniqueName("group");
        await kafka.ProduceAsync(topic, Enumerable.Range(0, 200).Select(i => (i % 4, Key(i), Order.Json(i))));
        var seen = new ConcurrentDictionary<int, ConcurrentBag<int>>();
        PartitionAssignment Assignment(int instance) => kind == "static"
            ? PartitionAssignment.Static(new TopicPartition(topic, instance * 2), new TopicPartition(topic, instance * 2 + 1))
            : PartitionAssignment.ByInstance(instance, 2);

        var (first, firstInput) = await StartAsync(topic, groupId, Assignment(0), p => seen.GetOrAdd(0, _ => []).Add(p));
        var (second, secondInput) = await StartAsync(topic, groupId, Assignment(1), p => seen.GetOrAdd(1, _ => []).Add(p));
        await using (first)
        await using (second)
        {
            (await Eventually.HoldsAsync(() => Finished(first) + Finished(second) >= 200 && Committed(groupId, topic) == 200, Deadline))
                .Should().BeTrue("every message is processed and committed per partition");
        }

        int[] firstExpected = kind == "static" ? [0, 1] : [0, 2];
        seen[0].Distinct().Order().Should().Equal(firstExpected);
        seen[1].Distinct().Order().Should().Equal(kind == "static" ? [2, 3] : [1, 3]);
        kafka.CommittedOffsets(groupId, topic).Should().BeEquivalentTo(kafka.EndOffsets(topic));
    }

    [Fact]
    public async Task Assignment_StaticNamesAPartitionThatDoesNotExist_FailsAtStartNamingIt()
    {
        var topic = await kafka.CreateTopicAsync("static-missing", 2);
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.Assignment = PartitionAssignment.Static(new TopicPartition(topic, 1), new TopicPartition(topic, 5));
        });

        var start = () => TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("static", task => task.ReadFrom(input)));

        var error = (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which;
        error.Setting.Should().Be("Assignment");
        error.Message.Should().Contain($"task 'static', setting Assignment").And.Contain($"{topic}[5] ({topic} has 2 partition(s))");
    }

    [Fact]
    public async Task Copartitioned_TwoInstancesInOneGroup_PartitionIOfBothTopicsStaysOnOneInstanceThroughRebalances()
    {
        var users = await kafka.CreateTopicAsync("copart-users", 4);
        var events = await kafka.CreateTopicAsync("copart-events", 4);
        var groupId = KafkaFixture.UniqueName("group");
        var first = new Tracked(); var second = new Tracked();

        await using var firstEngine = await StartCopartitionedAsync([users, events], groupId, first);
        (await Eventually.HoldsAsync(() => first.Input!.AssignedPartitions == 8, Deadline)).Should().BeTrue();
        first.Violations.Should().BeEmpty();

        var secondEngine = await StartCopartitionedAsync([users, events], groupId, second);
        (await Eventually.HoldsAsync(() => first.Input!.AssignedPartitions == 4 && second.Input!.AssignedPartitions == 4, Deadline)).Should().BeTrue();
        first.Partitions().Should().NotIntersectWith(second.Partitions());

        await secondEngine.DisposeAsync();
        (await Eventually.HoldsAsync(() => first.Input!.AssignedPartitions == 8, Deadline)).Should().BeTrue();

        first.Violations.Should().BeEmpty("after every assignment, each partition number is held for both topics or for none");
        second.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Copartitioned_DifferentPartitionCounts_FailsAtStartNamingEachTopicAndCount()
    {
        var users = await kafka.CreateTopicAsync("copart-bad-users", 4);
        var events = await kafka.CreateTopicAsync("copart-bad-events", 6);
        var input = new KafkaInput<Order>([users, events], o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.Copartitioned = true;
        });

        var start = () => TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("copart", task => task.ReadFrom(input)));

        (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which.Message.Should()
            .Contain("task 'copart', setting Copartitioned").And.Contain($"{users} has 4, {events} has 6");
    }

    [Fact]
    public async Task Copartitioned_WithRoundRobin_FailsAtBuildNamingTheSetting()
    {
        var input = new KafkaInput<Order>(["a", "b"], o =>
        {
            o.GroupId = KafkaFixture.UniqueName("group");
            o.Copartitioned = true;
            o.Assignment = PartitionAssignment.RoundRobin;
        });

        var start = () => TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("copart-rr", task => task.ReadFrom(input)));

        (await start.Should().ThrowAsync<MeshineryConfigurationException>()).Which.Message.Should()
            .Contain("task 'copart-rr', setting Copartitioned").And.Contain("'roundrobin' can give partition i of two topics to different instances");
    }

    [Theory]
    [InlineData(null, 2)] // the default, cooperative-sticky: only the partitions that move are revoked
    [InlineData("range", 4)] // a strategy named in the consumer settings wins over the default: eager, all revoked
    public async Task Assignment_Unset_SecondMemberJoining_RevokesOnlyWhatTheDefaultProtocolMoves(string? rawStrategy, int expectedRevoked)
    {
        var topic = await kafka.CreateTopicAsync("assign-default", 4);
        var groupId = KafkaFixture.UniqueName("group");
        // One entry per revocation: a join can take more than one rebalance (an eager one then revokes again what the
        // first member kept), so the protocol shows in the first revocation, not in the total.
        var revocations = new ConcurrentQueue<int[]>();
        KafkaInput<Order> Input(bool first) => new(topic, o =>
        {
            o.GroupId = groupId;
            if (rawStrategy is not null)
            {
                o.ConsumerConfig["partition.assignment.strategy"] = rawStrategy;
            }

            if (first)
            {
                o.PartitionsRevoked = partitions => revocations.Enqueue([.. partitions.Select(p => p.Partition.Value)]);
            }
        });
        var firstInput = Input(first: true);
        await using var first = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("t", task => task.ReadFrom(firstInput)));
        (await Eventually.HoldsAsync(() => firstInput.AssignedPartitions == 4, Deadline)).Should().BeTrue("the only member gets every partition");

        var secondInput = Input(first: false);
        await using var second = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("t", task => task.ReadFrom(secondInput)));
        (await Eventually.HoldsAsync(() => firstInput.AssignedPartitions == 2 && secondInput.AssignedPartitions == 2, Deadline))
            .Should().BeTrue("two members split four partitions ({0} and {1})", firstInput.AssignedPartitions, secondInput.AssignedPartitions);

        var revoked = revocations.Where(r => r.Length > 0).ToList();
        revoked.Should().NotBeEmpty("the second member's join takes partitions from the first");
        revoked[0].Should().HaveCount(expectedRevoked, "the first member's revocations were {0}", string.Join(" then ", revoked.Select(r => $"[{string.Join(", ", r)}]")));
    }

    private static string Key(int i) => i.ToString(CultureInfo.InvariantCulture);

    private static long Finished(TestEngine engine) => engine.Engine.GetStatistics("t").Finished;

    private long Committed(string groupId, string topic) => kafka.CommittedOffsets(groupId, topic).Values.Sum();

    private async Task<(TestEngine Engine, KafkaInput<Order> Input)> StartAsync(
        string topic, string groupId, PartitionAssignment assignment, Action<int>? onPartition = null)
    {
        var input = new KafkaInput<Order>(topic, o =>
        {
            o.GroupId = groupId;
            o.Assignment = assignment;
        });
        var engine = await TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("t", task => task
            .ReadFrom(input)
            .Do(_ => onPartition?.Invoke(TaskRunContext.Current!.Position.Partition))));
        return (engine, input);
    }

    private Task<TestEngine> StartCopartitionedAsync(string[] topics, string groupId, Tracked tracked)
    {
        tracked.Input = new KafkaInput<Order>(topics, o =>
        {
            o.GroupId = groupId;
            o.Copartitioned = true;
            o.PartitionsAssigned = partitions => tracked.Change(partitions, assigned: true, topics.Length);
            o.PartitionsRevoked = partitions => tracked.Change(partitions, assigned: false, topics.Length);
        });
        return TestEngine.StartAsync(kafka, mesh => mesh.AddTask<Order>("t", task => task.ReadFrom(tracked.Input)));
    }

    /// <summary>One instance's current partitions, checked after every assignment (consume thread).</summary>
    private sealed class Tracked
    {
        private readonly HashSet<TopicPartition> _held = [];

        public KafkaInput<Order>? Input { get; set; }

        public ConcurrentQueue<string> Violations { get; } = new();

        public HashSet<int> Partitions()
        {
            lock (_held)
            {
                return [.. _held.Select(p => p.Partition.Value)];
            }
        }

        public void Change(IReadOnlyList<TopicPartition> partitions, bool assigned, int topicCount)
        {
            lock (_held)
            {
                foreach (var partition in partitions)
                {
                    _ = assigned ? _held.Add(partition) : _held.Remove(partition);
                }

                if (assigned && _held.GroupBy(p => p.Partition.Value).FirstOrDefault(g => g.Count() != topicCount) is { } split)
                {
                    Violations.Enqueue($"partition {split.Key} held for {string.Join(", ", split.Select(p => p.Topic))} only");
                }
            }
        }
    }
}
