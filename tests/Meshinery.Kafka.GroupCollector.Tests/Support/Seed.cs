namespace Meshinery.Kafka.GroupCollector.Tests.Support;

/// <summary>The seed's messages (seed 004), minified exactly as the seed gives them.</summary>
public static class Seed
{
    public const string GroupId = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
    public const string EntityA = "A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
    public const string EntityB = "366B21B5-E499-40E1-882A-B3EC99B27E47";
    public const string EntityC = "11ACC3BA-F0E5-4962-BC00-0E54497AB296";

    public const string Create = """{"id":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","type":"EventGroupCollectorCreate","expected":["A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","366B21B5-E499-40E1-882A-B3EC99B27E47","11ACC3BA-F0E5-4962-BC00-0E54497AB296"],"ttl":120,"payload":{"group":"payload"}}""";
    public const string DoneA = """{"id":"A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"A","bar":true}}""";
    public const string DoneB = """{"id":"366B21B5-E499-40E1-882A-B3EC99B27E47","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"B","bar":true}}""";
    public const string DoneC = """{"id":"11ACC3BA-F0E5-4962-BC00-0E54497AB296","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"C","bar":{"buzz":42}}}""";
    public const string ErrorC = """{"id":"11ACC3BA-F0E5-4962-BC00-0E54497AB296","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","error":"Error while processing operation. Insufficient space on bounded volume"}""";

    /// <summary>The seed's success message (its timestamps are Go's time.String(); ours are RFC 3339).</summary>
    public const string Success = """
        {"type":"EventGroupCollectorSuccess","id":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","created":"2020-07-17 22:36:26.402756 +0000 UTC m=+261.390776401","resolved":"2020-07-17 22:44:58.9145535 +0000 UTC m=+774.492444901",
         "results":{"11ACC3BA-F0E5-4962-BC00-0E54497AB296":{"bar":{"buzz":42},"job":"C"},"366B21B5-E499-40E1-882A-B3EC99B27E47":{"bar":true,"job":"B"},"A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81":{"bar":true,"job":"A"}},
         "payload":{"group":"payload"}}
        """;

    public const string Failure = """
        {"type":"EventGroupCollectorFailure","id":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","error":"Error while processing operation. Insufficient space on bounded volume","created":"2020-07-17 22:52:19.474696 +0000 UTC m=+1215.573108301",
         "results":{"11ACC3BA-F0E5-4962-BC00-0E54497AB296":null,"366B21B5-E499-40E1-882A-B3EC99B27E47":{"bar":true,"job":"B"},"A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81":{"bar":true,"job":"A"}},
         "payload":{"group":"payload"}}
        """;

    public const string Timeout = """
        {"type":"EventGroupCollectorFailure","id":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","entity":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","error":"Operation timed out after 10 seconds","created":"2020-07-17T23:38:21Z","results":{},"payload":{"group":"payload"}}
        """;

    /// <summary>The seed's create with another ttl (the timeout example used 10 s).</summary>
    public static string CreateWithTtl(int ttl) => Create.Replace("\"ttl\":120", $"\"ttl\":{ttl}", StringComparison.Ordinal);

    /// <summary>The seed's messages for another group id (so that tests sharing a topic do not mix).</summary>
    public static string ForGroup(string message, string groupId) => message.Replace(GroupId, groupId, StringComparison.Ordinal);
}
