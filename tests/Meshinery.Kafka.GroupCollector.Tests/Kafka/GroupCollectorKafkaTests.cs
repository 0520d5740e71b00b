using System.Text;
using Meshinery.Kafka.GroupCollector.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Meshinery.Kafka.GroupCollector.Tests.Kafka;

/// <summary>The collector end to end on a Kafka-protocol broker: unkeyed input spread over partitions, results on the same topic.</summary>
[Collection(CollectorKafkaTests.Name)]
public class GroupCollectorKafkaTests(CollectorKafka kafka)
{
    [Fact]
    public async Task AddGroupCollector_SeedExamplesOnDifferentPartitions_WritesOneSuccessAndOneFailure()
    {
        var options = await kafka.CreateCollectorAsync();
        const string failing = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF82";
        using var results = new ResultReader(kafka.BootstrapServers, options.OutputTopicName);
        await using var collector = await CollectorEngine.StartAsync(kafka, options);

        // Each group's four events on partitions 0, 1, 2, 0: only the repartitioning brings them together.
        await kafka.PostAsync(options.Topic, [Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC]);
        await kafka.PostAsync(options.Topic, new[] { Seed.Create, Seed.DoneA, Seed.DoneB, Seed.ErrorC }.Select(m => Seed.ForGroup(m, failing)));
        await results.WaitForAsync(2);

        var success = results.For(Seed.GroupId).Should().ContainSingle().Subject;
        success.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        success.GetProperty("results").GetProperty(Seed.EntityC).GetRawText().Should().Be("""{"job":"C","bar":{"buzz":42}}""");
        var failure = results.For(failing).Should().ContainSingle().Subject;
        failure.GetProperty("error").GetString().Should().Be("Error while processing operation. Insufficient space on bounded volume");
        failure.GetProperty("results").GetProperty(Seed.EntityC).ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);

        var scoped = collector.Logs.Collector.GetSnapshot()
            .Where(r => r.Message.Contains("succeeded", StringComparison.Ordinal))
            .Select(r => r.Scopes.OfType<IEnumerable<KeyValuePair<string, object?>>>().SelectMany(pairs => pairs).Any(p => p.Key == "GroupId" && Equals(p.Value, Seed.GroupId)));
        scoped.Should().ContainSingle().Which.Should().BeTrue(
            "messages about a group are logged with its id in scope");
    }

    [Fact]
    public async Task AddGroupCollector_TtlPassesOnTheEnginesClock_WritesTheTimeoutFailure()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = await kafka.CreateCollectorAsync();
        using var results = new ResultReader(kafka.BootstrapServers, options.OutputTopicName);
        await using var collector = await CollectorEngine.StartAsync(kafka, options, clock);

        await kafka.PostAsync(options.Topic, [Seed.CreateWithTtl(10), Seed.DoneA]);
        await WaitForChangelogAsync(options, Seed.GroupId, record => record.Contains(Seed.EntityA, StringComparison.Ordinal));
        results.Results.Should().BeEmpty("no time has passed on the engine's clock");
        clock.Advance(TimeSpan.FromSeconds(10));
        await results.WaitForAsync(1);

        var timeout = results.Results.Should().ContainSingle().Subject;
        timeout.GetProperty("error").GetString().Should().Be("Operation timed out after 10 seconds");
        timeout.GetProperty("entity").GetString().Should().Be(Seed.GroupId);
        timeout.GetProperty("results").EnumerateObject().Select(p => p.Name).Should().Equal(Seed.EntityA);
    }

    [Fact]
    public async Task AddGroupCollector_InvalidEvents_AreDeadLetteredWithTheirBytesAndReasonAndTheRestGoesOn()
    {
        var options = await kafka.CreateCollectorAsync();
        using var results = new ResultReader(kafka.BootstrapServers, options.OutputTopicName);
        await using var collector = await CollectorEngine.StartAsync(kafka, options);
        var invalid = new Dictionary<string, string>
        {
            ["{not json"] = "not JSON",
            ["""{"type":"EventGroupCollectorSomething","id":"x"}"""] = "Unknown event type",
            ["""{"type":"EventGroupCollectorCreate","expected":["a"]}"""] = "has no 'id'",
            ["""{"type":"EventGroupCollectorCreate","id":"x"}"""] = "has no 'expected'",
            ["""{"type":"EventGroupCollectorCreate","id":"x","expected":["a"],"ttl":-1}"""] = "'ttl' must be between 1",
            ["""{"type":"EventGroupCollectorEntityDone","id":"a","result":{}}"""] = "has no 'group'",
        };

        await kafka.PostAsync(options.Topic, invalid.Keys.Concat([Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC]));
        await results.WaitForAsync(1);

        results.For(Seed.GroupId).Should().ContainSingle().Which.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        var deadLetters = await EventuallyAsync(() => kafka.ReadAll(options.DeadLetterTopicName), letters => letters.Count >= invalid.Count);
        deadLetters.Should().HaveCount(invalid.Count);
        foreach (var letter in deadLetters)
        {
            var value = Encoding.UTF8.GetString(letter.Message.Value!);
            invalid.Should().ContainKey(value, "the dead letter holds the original bytes");
            letter.Message.Headers.TryGetLastBytes(DeadLetterHeaders.ErrorMessage, out var reason).Should().BeTrue();
            Encoding.UTF8.GetString(reason).Should().Contain(invalid[value]);
            Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes(DeadLetterHeaders.ErrorType)).Should().Be(typeof(InvalidGroupEventException).FullName);
        }
    }

    /// <summary>
    /// The hand-over under both kinds of group protocol: the library's default, cooperative-sticky (incremental: a
    /// rebalance revokes only the partitions that change owner and assigns only those), and range (eager: every
    /// rebalance revokes every partition of every member, then assigns the new set).
    /// </summary>
    [Theory]
    [InlineData("default")]
    [InlineData("range")]
    public async Task AddGroupCollector_TwoInstancesAndOneLeavingMidway_ResolveEveryGroupOnce(string protocol)
    {
        const int groups = 30;
        var assignment = Assignment(protocol);
        var options = await kafka.CreateCollectorAsync();
        using var results = new ResultReader(kafka.BootstrapServers, options.OutputTopicName);
        var ids = Enumerable.Range(0, groups).Select(i => $"group-{i:D3}").ToList();
        await using var first = await CollectorEngine.StartAsync(kafka, options, assignment: assignment);
        await first.WaitForLogsAsync(c => Owned(c) == CollectorKafka.Partitions, "the first instance to restore every partition");
        await using var second = await CollectorEngine.StartAsync(kafka, options, assignment: assignment);
        await second.WaitForLogsAsync(c => Owned(c) > 0 && Owned(c) + Owned(first) == CollectorKafka.Partitions, "the two instances to share the partitions");

        var moved = Owned(second);
        if (assignment is null)
        {
            first.Logged(Dropped).Should().Be(moved, "the default protocol, cooperative-sticky, revokes only the partitions that move");
            first.Logged(Restored).Should().Be(CollectorKafka.Partitions, "the partitions an instance keeps are neither dropped nor restored again");
        }
        else
        {
            first.Logged(Dropped).Should().BeGreaterThanOrEqualTo(CollectorKafka.Partitions, "an eager rebalance revokes every partition");
        }

        // Creates and first dones of every group; then one instance leaves; then the rest.
        await kafka.PostAsync(options.Topic, ids.SelectMany(id => new[] { Seed.ForGroup(Seed.Create, id), Seed.ForGroup(Seed.DoneA, id) }));
        await kafka.PostAsync(options.Topic, ids.Take(groups / 2).SelectMany(id => new[] { Seed.ForGroup(Seed.DoneB, id), Seed.ForGroup(Seed.DoneC, id) }));
        await results.WaitForAsync(groups / 2);
        await second.StopAsync();
        await kafka.PostAsync(options.Topic, ids.Skip(groups / 2).SelectMany(id => new[] { Seed.ForGroup(Seed.DoneB, id), Seed.ForGroup(Seed.DoneC, id) }));
        await results.WaitForAsync(groups);

        foreach (var id in ids)
        {
            var result = results.For(id).Should().ContainSingle("group {0} resolves once", id).Subject;
            result.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
            result.GetProperty("results").EnumerateObject().Should().HaveCount(3);
        }

        var resolvers = new[] { first, second }.Count(c => c.Logs.Collector.GetSnapshot().Any(r => r.Message.Contains("succeeded", StringComparison.Ordinal)));
        resolvers.Should().Be(2, "both instances owned groups");
    }

    /// <summary>
    /// A restore that fails inside the assignment handler, under both kinds of protocol. Under cooperative-sticky an
    /// exception out of that handler left the incremental assignment unacknowledged, and the consumer's Dispose then
    /// waited for ever (the engine's stop never returned); the collector now reports the failure and lets the handler
    /// return.
    /// </summary>
    [Theory]
    [InlineData("default")]
    [InlineData("range")]
    public async Task AddGroupCollector_ChangelogWithOtherPartitionCount_StopsTheEngineWithAClearError(string protocol)
    {
        var options = await kafka.CreateCollectorAsync(changelogPartitions: CollectorKafka.Partitions + 1);
        await using var collector = await CollectorEngine.StartAsync(kafka, options, assignment: Assignment(protocol));

        var completion = async () => await collector.Engine.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        (await completion.Should().ThrowAsync<InvalidOperationException>()).Which.Message
            .Should().Contain($"has {CollectorKafka.Partitions + 1} partition(s)").And.Contain("must have the same number");
        var stop = async () => await collector.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await stop.Should().NotThrowAsync("the inputs stop and leave their groups");
    }

    private static PartitionAssignment? Assignment(string protocol) => protocol == "range" ? PartitionAssignment.Range : null;

    private const int Restored = 1010; // CollectorLog.Restored
    private const int Dropped = 1011; // CollectorLog.Dropped

    /// <summary>The partitions an instance holds a table for: restored minus dropped.</summary>
    private static int Owned(CollectorEngine collector) => collector.Logged(Restored) - collector.Logged(Dropped);

    private async Task WaitForChangelogAsync(GroupCollectorOptions options, string groupId, Func<string, bool> holds) =>
        await EventuallyAsync(
            () => kafka.ReadAll(options.ChangelogTopicName).Where(r => r.Message.Key is { } key && Encoding.UTF8.GetString(key) == groupId && r.Message.Value is not null)
                .Select(r => Encoding.UTF8.GetString(r.Message.Value!)).ToList(),
            records => records.Count > 0 && holds(records[^1]));

    /// <summary>Reads again until the condition holds (each read waits on the broker), failing after 30 s.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<T> read, Func<T, bool> done)
    {
        var until = Environment.TickCount64 + 30_000;
        while (true)
        {
            var value = await Task.Run(read);
            if (done(value))
            {
                return value;
            }

            if (Environment.TickCount64 > until)
            {
                throw new TimeoutException($"The condition did not hold within 30 s; last value: {value}");
            }
        }
    }
}
