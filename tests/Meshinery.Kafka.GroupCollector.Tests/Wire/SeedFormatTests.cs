using System.Globalization;
using System.Text.Json;
using Meshinery.Kafka.GroupCollector.Tests.Support;

namespace Meshinery.Kafka.GroupCollector.Tests.Wire;

/// <summary>The seed's messages in and out, field by field.</summary>
public class SeedFormatTests
{
    private static readonly GroupEventParser s_parser = new(TimeSpan.FromSeconds(30), TimeSpan.FromDays(7), 10_000);

    [Fact]
    public void Parse_SeedCreate_ReadsIdExpectedTtlAndPayload()
    {
        var create = s_parser.Parse(TableHarness.Bytes(Seed.Create)).Should().BeOfType<GroupCreate>().Subject;

        create.GroupId.Should().Be(Seed.GroupId);
        create.Expected.Should().Equal(Seed.EntityA, Seed.EntityB, Seed.EntityC);
        create.TtlSeconds.Should().Be(120);
        create.Payload.GetRawText().Should().Be("""{"group":"payload"}""");
    }

    [Fact]
    public void Parse_CreateWithoutTtl_UsesTheDefaultOf30Seconds()
    {
        var json = Seed.Create.Replace(",\"ttl\":120", string.Empty, StringComparison.Ordinal);

        s_parser.Parse(TableHarness.Bytes(json)).Should().BeOfType<GroupCreate>().Which.TtlSeconds.Should().Be(30);
    }

    [Fact]
    public void Parse_SeedDoneWithResult_ReadsEntityGroupAndResult()
    {
        var done = s_parser.Parse(TableHarness.Bytes(Seed.DoneC)).Should().BeOfType<EntityDone>().Subject;

        done.EntityId.Should().Be(Seed.EntityC);
        done.GroupId.Should().Be(Seed.GroupId);
        done.Result.GetRawText().Should().Be("""{"job":"C","bar":{"buzz":42}}""");
        done.Error.Should().BeNull();
    }

    [Fact]
    public void Parse_SeedDoneWithError_ReadsTheError()
    {
        var done = s_parser.Parse(TableHarness.Bytes(Seed.ErrorC)).Should().BeOfType<EntityDone>().Subject;

        done.Error.Should().Be("Error while processing operation. Insufficient space on bounded volume");
    }

    [Theory]
    [InlineData(Seed.Success)]
    [InlineData(Seed.Failure)]
    [InlineData(Seed.Timeout)]
    public void Parse_ResultEvent_IsSkipped(string json) =>
        s_parser.Parse(TableHarness.Bytes(json)).Should().BeNull("the collector's results share its topic and are not input");

    [Fact]
    public void Success_SeedExample_MatchesTheSeedFieldByField()
    {
        using var harness = new TableHarness();
        var created = harness.Clock.GetUtcNow();
        harness.Apply(Seed.Create);
        harness.Clock.Advance(TimeSpan.FromSeconds(10));
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        harness.Apply(Seed.DoneC);

        var result = harness.Results.Should().ContainSingle().Subject;
        AssertMatchesSeed(result, Seed.Success, "created", "resolved");
        Timestamp(result, "created").Should().Be(created);
        Timestamp(result, "resolved").Should().Be(created + TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Failure_SeedExample_MatchesTheSeedFieldByField()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.Create);
        harness.Apply(Seed.DoneA);
        harness.Apply(Seed.DoneB);
        harness.Apply(Seed.ErrorC);

        var result = harness.Results.Should().ContainSingle().Subject;
        AssertMatchesSeed(result, Seed.Failure, "created");
    }

    [Fact]
    public void Timeout_SeedExample_MatchesTheSeedFieldByField()
    {
        using var harness = new TableHarness();
        harness.Apply(Seed.CreateWithTtl(10));
        harness.Clock.Advance(TimeSpan.FromSeconds(10));
        harness.Tick(Seed.GroupId);

        var result = harness.Results.Should().ContainSingle().Subject;
        AssertMatchesSeed(result, Seed.Timeout, "created");
    }

    [Fact]
    public void Timestamps_AreRfc3339InUtcWithSevenFractionalDigits()
    {
        ResultEvents.Timestamp(new DateTimeOffset(2020, 7, 17, 22, 36, 26, 402, TimeSpan.FromHours(2)).AddTicks(7560))
            .Should().Be("2020-07-17T20:36:26.4027560Z");
    }

    /// <summary>Same field names in the same order, same values; timestamps only in our documented format.</summary>
    private static void AssertMatchesSeed(JsonElement actual, string seedJson, params string[] timestamps)
    {
        using var seed = JsonDocument.Parse(seedJson);
        actual.EnumerateObject().Select(p => p.Name).Should().Equal(seed.RootElement.EnumerateObject().Select(p => p.Name), "the seed's fields, in the seed's order");
        foreach (var field in seed.RootElement.EnumerateObject())
        {
            var value = actual.GetProperty(field.Name);
            if (timestamps.Contains(field.Name))
            {
                value.ValueKind.Should().Be(JsonValueKind.String);
                DateTimeOffset.TryParseExact(value.GetString(), "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
                    .Should().BeTrue("{0} is RFC 3339 in UTC, not {1}", field.Name, value.GetString());
                continue;
            }

            JsonElement.DeepEquals(value, field.Value).Should().BeTrue("field {0} is {1} in the seed, not {2}", field.Name, field.Value.GetRawText(), value.GetRawText());
        }
    }

    private static DateTimeOffset Timestamp(JsonElement result, string field) =>
        DateTimeOffset.Parse(result.GetProperty(field).GetString()!, CultureInfo.InvariantCulture);
}
