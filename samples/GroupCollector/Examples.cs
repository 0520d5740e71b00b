namespace GroupCollectorSample;

/// <summary>The seed's three examples, minified as the seed posts them with kcat (one group id each, so they do not mix).</summary>
internal static class Examples
{
    public const string SuccessGroup = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81";
    public const string FailureGroup = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF82";
    public const string TimeoutGroup = "F0CABCA1-64AE-40A3-ABEB-0741ACF1FF83";

    private const string Create = """{"id":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","type":"EventGroupCollectorCreate","expected":["A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","366B21B5-E499-40E1-882A-B3EC99B27E47","11ACC3BA-F0E5-4962-BC00-0E54497AB296"],"ttl":120,"payload":{"group":"payload"}}""";
    private const string DoneA = """{"id":"A0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"A","bar":true}}""";
    private const string DoneB = """{"id":"366B21B5-E499-40E1-882A-B3EC99B27E47","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"B","bar":true}}""";
    private const string DoneC = """{"id":"11ACC3BA-F0E5-4962-BC00-0E54497AB296","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","result":{"job":"C","bar":{"buzz":42}}}""";
    private const string ErrorC = """{"id":"11ACC3BA-F0E5-4962-BC00-0E54497AB296","type":"EventGroupCollectorEntityDone","group":"F0CABCA1-64AE-40A3-ABEB-0741ACF1FF81","error":"Error while processing operation. Insufficient space on bounded volume"}""";

    /// <summary>Example 1: a group of three jobs that all succeed.</summary>
    public static IEnumerable<string> Success => [Create, DoneA, DoneB, DoneC];

    /// <summary>A propagated failure: job C reports an error.</summary>
    public static IEnumerable<string> Failure => [.. new[] { Create, DoneA, DoneB, ErrorC }.Select(m => m.Replace(SuccessGroup, FailureGroup, StringComparison.Ordinal))];

    /// <summary>A time-dependent failure: a group with a 10 s time-to-live whose jobs never report.</summary>
    public static IEnumerable<string> Timeout =>
        [Create.Replace(SuccessGroup, TimeoutGroup, StringComparison.Ordinal).Replace("\"ttl\":120", "\"ttl\":10", StringComparison.Ordinal)];
}
