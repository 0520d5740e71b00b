using System.Text.Json;
using Meshinery.Kafka.GroupCollector.Tests.Support;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.GroupCollector.Tests.State;

/// <summary>The seed's rules, applied to one partition's table on a fake clock.</summary>
public class GroupTableTests
{
    [Fact]
    public void Apply_EveryExpectedEntityDone_WritesOneSuccessWithAllResults()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        harness.Results.Should().BeEmpty("one entity is still missing");

        harness.Apply(Seed.DoneC);

        var result = harness.Results.Should().ContainSingle().Subject;
        result.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        result.GetProperty("results").EnumerateObject().Select(p => p.Name).Should().Equal(Seed.EntityC, Seed.EntityB, Seed.EntityA);
        harness.Table.OpenCount.Should().Be(0);
    }

    [Fact]
    public void Apply_FirstError_FailsTheGroupAtOnceAndLaterDonesChangeNothing()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneB);

        harness.Apply(Seed.ErrorC);
        harness.Apply(Seed.DoneA).WriteChangelog.Should().BeFalse();

        var result = harness.Results.Should().ContainSingle().Subject;
        result.GetProperty("type").GetString().Should().Be("EventGroupCollectorFailure");
        result.GetProperty("error").GetString().Should().Be("Error while processing operation. Insufficient space on bounded volume");
        result.GetProperty("results").GetRawText().Should().Be($$$"""{"{{{Seed.EntityC}}}":null,"{{{Seed.EntityB}}}":{"job":"B","bar":true}}""");
        result.TryGetProperty("entity", out _).Should().BeFalse("the seed's propagated failure has no entity field");
    }

    [Fact]
    public void Tick_BeforeTheTtl_ChangesNothing()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Clock.Advance(TimeSpan.FromSeconds(119));

        harness.Tick(Seed.GroupId).WriteChangelog.Should().BeFalse();

        harness.Results.Should().BeEmpty();
        harness.Deadline(Seed.GroupId).Should().Be(harness.Clock.GetUtcNow() + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Tick_WhenTheTtlPassed_FailsWithTheTimeoutAndTheResultsSoFar()
    {
        using var harness = new TableHarness();
        using var timedOut = new MetricCollector<long>(harness.Metrics.Meter, "meshinery.group_collector.groups.timed_out");
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        harness.Clock.Advance(TimeSpan.FromSeconds(120));

        harness.Tick(Seed.GroupId);
        harness.Apply(Seed.DoneB);
        harness.Tick(Seed.GroupId);

        var result = harness.Results.Should().ContainSingle().Subject;
        result.GetProperty("error").GetString().Should().Be("Operation timed out after 120 seconds");
        result.GetProperty("entity").GetString().Should().Be(Seed.GroupId);
        result.GetProperty("results").EnumerateObject().Select(p => p.Name).Should().Equal(Seed.EntityA);
        timedOut.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
    }

    [Fact]
    public void Apply_RepeatedDone_ChangesNothing()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        var before = harness.Changelog[Seed.GroupId];

        var repeated = harness.Apply(Seed.DoneA.Replace("\"job\":\"A\"", "\"job\":\"other\"", StringComparison.Ordinal));
        harness.Apply(Seed.DoneB);
        harness.Apply(Seed.DoneC);

        repeated.WriteChangelog.Should().BeFalse();
        repeated.Result.Should().BeNull();
        before.Should().NotBeNull();
        harness.Results.Should().ContainSingle().Which.GetProperty("results").GetProperty(Seed.EntityA).GetProperty("job").GetString().Should().Be("A");
    }

    [Fact]
    public void Apply_DonesBeforeTheirCreate_AreKeptAndResolveTheGroupWhenItArrives()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneC);
        harness.Apply(Seed.DoneB);
        harness.Results.Should().BeEmpty();

        harness.Apply(Seed.Create);

        harness.Results.Should().ContainSingle().Which.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
    }

    [Fact]
    public void Tick_AfterTheOrphanWait_DropsTheDonesAndAFreshCreateWaitsAgain()
    {
        using var harness = new TableHarness(o => o.OrphanWait = TimeSpan.FromSeconds(5));
        using var expired = new MetricCollector<long>(harness.Metrics.Meter, "meshinery.group_collector.orphans.expired");
        harness.Apply(Seed.DoneA);
        harness.Deadline(Seed.GroupId).Should().Be(harness.Clock.GetUtcNow() + TimeSpan.FromSeconds(5));
        harness.Clock.Advance(TimeSpan.FromSeconds(5));

        var tick = harness.Tick(Seed.GroupId);

        tick.WriteChangelog.Should().BeTrue();
        tick.Changelog.Should().BeNull("a tombstone: the group is forgotten");
        harness.Table.Find(Seed.GroupId).Should().BeNull();
        expired.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
        harness.Logger.Collector.GetSnapshot().Should().Contain(r => r.Level == LogLevel.Warning && r.Message.Contains(Seed.GroupId, StringComparison.Ordinal));

        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneB);
        harness.Apply(Seed.DoneC);
        harness.Results.Should().BeEmpty("the dropped done of A is not counted");
    }

    [Fact]
    public void Apply_UnexpectedEntity_IsCountedLoggedAndLeftOut()
    {
        using var harness = new TableHarness();
        using var unexpected = new MetricCollector<long>(harness.Metrics.Meter, "meshinery.group_collector.entities.unexpected");
        var stranger = Seed.DoneA.Replace(Seed.EntityA, "STRANGER", StringComparison.Ordinal);
        var earlyStranger = Seed.DoneA.Replace(Seed.EntityA, "EARLY-STRANGER", StringComparison.Ordinal);
        harness.Apply(earlyStranger);
        harness.Apply(Seed.Create);
        harness.Apply(stranger).WriteChangelog.Should().BeFalse();

        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        harness.Apply(Seed.DoneC);

        unexpected.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(2);
        harness.Logger.Collector.GetSnapshot().Where(r => r.Level == LogLevel.Warning).Select(r => r.Message)
            .Should().Contain(m => m.Contains("STRANGER", StringComparison.Ordinal) && m.Contains(Seed.GroupId, StringComparison.Ordinal));
        var results = harness.Results.Should().ContainSingle().Subject.GetProperty("results");
        results.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo([Seed.EntityA, Seed.EntityB, Seed.EntityC]);
    }

    [Fact]
    public void Apply_EventsOfAResolvedGroup_ChangeNothing()
    {
        using var harness = new TableHarness();
        foreach (var message in new[] { Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC })
        {
            harness.Apply(message);
        }

        foreach (var message in new[] { Seed.Create, Seed.DoneA, Seed.ErrorC })
        {
            var decision = harness.Apply(message);
            decision.WriteChangelog.Should().BeFalse();
            decision.Result.Should().BeNull();
        }

        harness.Clock.Advance(TimeSpan.FromMinutes(5));
        harness.Tick(Seed.GroupId).Result.Should().BeNull();
        harness.Results.Should().ContainSingle();
    }

    [Fact]
    public void Tick_AfterTheResolvedRetention_ForgetsTheGroup()
    {
        using var harness = new TableHarness(o => o.ResolvedRetention = TimeSpan.FromMinutes(1));
        foreach (var message in new[] { Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC })
        {
            harness.Apply(message);
        }

        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        var tick = harness.Tick(Seed.GroupId);

        tick.WriteChangelog.Should().BeTrue();
        tick.Changelog.Should().BeNull();
        harness.Table.Count.Should().Be(0);
    }

    [Fact]
    public void Apply_CreatePastMaxOpenGroups_FailsThatGroupAtOnce()
    {
        using var harness = new TableHarness(o => o.MaxOpenGroups = 1);
        using var rejected = new MetricCollector<long>(harness.Metrics.Meter, "meshinery.group_collector.groups.rejected");
        harness.Apply(Seed.ForGroup(Seed.Create, "first"));

        harness.Apply(Seed.Create);

        var result = harness.Results.Should().ContainSingle().Subject;
        result.GetProperty("id").GetString().Should().Be(Seed.GroupId);
        result.GetProperty("error").GetString().Should().Contain("MaxOpenGroups");
        rejected.GetMeasurementSnapshot().EvaluateAsCounter().Should().Be(1);
        harness.Table.OpenCount.Should().Be(1);
    }

    [Fact]
    public void Apply_DoneOfAnUnknownGroupPastMaxOpenGroups_IsRejectedForTheDeadLetter()
    {
        using var harness = new TableHarness(o => o.MaxOpenGroups = 1);
        harness.Apply(Seed.ForGroup(Seed.Create, "first"));

        var apply = () => harness.Apply(Seed.DoneA);

        apply.Should().Throw<InvalidGroupEventException>().WithMessage("*MaxOpenGroups*");
    }

    [Fact]
    public void OpenGroupsGauge_FollowsCreatesAndResolutions()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.ForGroup(Seed.DoneA, "orphan"));
        harness.Metrics.Open.Should().Be(2);

        harness.Apply(Seed.ErrorC);

        harness.Metrics.Open.Should().Be(1);
        using var open = new MetricCollector<long>(harness.Metrics.Meter, "meshinery.group_collector.groups.open");
        open.RecordObservableInstruments();
        open.LastMeasurement!.Value.Should().Be(1);
    }

    [Fact]
    public void Restore_BetweenEvents_ContinuesWhereTheGroupWas()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);

        var restored = harness.Restore();
        var now = harness.Clock.GetUtcNow();
        restored.Apply(Parse(Seed.DoneA), now).WriteChangelog.Should().BeFalse("A was done before the restart");
        restored.Apply(Parse(Seed.DoneB), now);
        var last = restored.Apply(Parse(Seed.DoneC), now);

        var result = JsonDocument.Parse(last.Result!).RootElement;
        result.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        result.GetProperty("results").EnumerateObject().Should().HaveCount(3);
        result.GetProperty("payload").GetRawText().Should().Be("""{"group":"payload"}""");
    }

    [Fact]
    public void Restore_ResultDecidedButNotWritten_WritesTheSameResultOnceAtTheNextTick()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        var decided = harness.Apply(Parse(Seed.DoneC), emit: false); // the crash: changelog written, result not

        var restored = harness.Restore();
        var now = harness.Clock.GetUtcNow();
        restored.Find(Seed.GroupId)!.Deadline(harness.Options, now).Should().Be(now, "the result is due at once");
        var tick = restored.Apply(new GroupTick(Seed.GroupId), now);
        var again = restored.Apply(Parse(Seed.DoneC), now);

        tick.Result.Should().Equal(decided.Result, "the same bytes, timestamps included");
        again.Result.Should().BeNull("its write is in flight: nobody else starts one");
        restored.MarkEmitted(Seed.GroupId);
        restored.Apply(new GroupTick(Seed.GroupId), now).Result.Should().BeNull();
    }

    [Fact]
    public void Restore_AfterTheResultWasWritten_NeverWritesItAgain()
    {
        using var harness = new TableHarness();
        foreach (var message in new[] { Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC })
        {
            harness.Apply(message);
        }

        var restored = harness.Restore();
        var now = harness.Clock.GetUtcNow();
        foreach (var message in new[] { Seed.Create, Seed.DoneA, Seed.DoneB, Seed.DoneC })
        {
            restored.Apply(Parse(message), now).Result.Should().BeNull();
        }

        restored.Apply(new GroupTick(Seed.GroupId), now).Result.Should().BeNull();
        restored.OpenCount.Should().Be(0);
    }

    [Fact]
    public void Apply_AfterAFailedResultWrite_WritesTheResultAgain()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        var first = harness.Apply(Parse(Seed.DoneC), emit: false);
        harness.Table.EmitFailed(Seed.GroupId);

        var retry = harness.Table.Apply(Parse(Seed.DoneC), harness.Clock.GetUtcNow());

        retry.Result.Should().Equal(first.Result);
    }

    private static GroupEvent Parse(string json) =>
        new GroupEventParser(TimeSpan.FromSeconds(30), TimeSpan.FromDays(7), 10_000).Parse(TableHarness.Bytes(json))!;
}
