using Meshinery.Kafka.GroupCollector.Tests.Support;

namespace Meshinery.Kafka.GroupCollector.Tests.Wire;

/// <summary>Every kind of bad input the issue names is rejected with a reason that says what is wrong.</summary>
public class InvalidEventTests
{
    private static readonly GroupEventParser s_parser = new(TimeSpan.FromSeconds(30), TimeSpan.FromDays(7), maxExpected: 100);

    public static TheoryData<string, string> Cases => new()
    {
        { "not json at all", "not JSON" },
        { "[1,2]", "not an object" },
        { """{"id":"g"}""", "no string field 'type'" },
        { """{"type":"EventGroupCollectorDelete","id":"g"}""", "Unknown event type 'EventGroupCollectorDelete'" },
        { """{"type":"MeshineryGroupCollectorTick","group":"g"}""", "Unknown event type" },
        { """{"type":"EventGroupCollectorCreate","expected":["a"]}""", "has no 'id'" },
        { """{"type":"EventGroupCollectorCreate","id":"","expected":["a"]}""", "'id' must be a non-empty string" },
        { """{"type":"EventGroupCollectorCreate","id":"g"}""", "'g' has no 'expected'" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":"a"}""", "must be an array" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":[]}""", "between 1 and 100 entities, not 0" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a","a"]}""", "expects entity 'a' twice" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a",3]}""", "non-empty strings" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a"],"ttl":-5}""", "between 1 and 604800 seconds, not -5" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a"],"ttl":0}""", "not 0" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a"],"ttl":99999999999}""", "not 99999999999" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a"],"ttl":"soon"}""", "whole number of seconds" },
        { """{"type":"EventGroupCollectorCreate","id":"g","expected":["a"],"ttl":1.5}""", "whole number of seconds" },
        { """{"type":"EventGroupCollectorEntityDone","id":"a","result":1}""", "'a' has no 'group'" },
        { """{"type":"EventGroupCollectorEntityDone","id":"a","group":null}""", "has no 'group'" },
        { """{"type":"EventGroupCollectorEntityDone","group":"g"}""", "has no 'id'" },
        { """{"type":"EventGroupCollectorEntityDone","id":"a","group":"g","error":42}""", "'error' must be a non-empty string" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_InvalidEvent_ThrowsWithTheReason(string json, string reason)
    {
        var parse = () => s_parser.Parse(TableHarness.Bytes(json));

        parse.Should().Throw<InvalidGroupEventException>().Which.Message.Should().Contain(reason);
    }

    [Fact]
    public void Parse_EmptyValue_Throws()
    {
        var parse = () => s_parser.Parse(null);

        parse.Should().Throw<InvalidGroupEventException>().WithMessage("*no value*");
    }

    [Fact]
    public void Parse_MoreExpectedEntitiesThanTheLimit_Throws()
    {
        var json = $$"""{"type":"EventGroupCollectorCreate","id":"g","expected":[{{string.Join(",", Enumerable.Range(0, 101).Select(i => $"\"e{i}\""))}}]}""";

        var parse = () => s_parser.Parse(TableHarness.Bytes(json));

        parse.Should().Throw<InvalidGroupEventException>().WithMessage("*between 1 and 100 entities, not 101*");
    }
}
