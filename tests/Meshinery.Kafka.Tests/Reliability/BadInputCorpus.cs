using System.Globalization;
using System.Text;
using Meshinery.Kafka.Tests.Support;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// A generated corpus of messages an input topic may carry: malformed ones the default JSON deserializer must reject
/// (each must reach the dead-letter topic as it was) and good orders with awkward keys or headers, which must be
/// processed like any other. Every message has a unique name, carried in a "corpus.name" header.
/// </summary>
public static class BadInputCorpus
{
    public const string NameHeader = "corpus.name";

    /// <summary>1 MiB: the "1 MB value" of the corpus.</summary>
    public const int LargeValueBytes = 1 << 20;

    /// <summary>A 256 KiB header.</summary>
    public const int HugeHeaderBytes = 256 * 1024;

    /// <summary>Messages the deserializer cannot turn into an <see cref="Order"/>.</summary>
    public static IEnumerable<RawMessage> Malformed(int partitions)
    {
        var i = 0;
        RawMessage Bad(string name, byte[]? key, byte[]? value, params (string, byte[])[] headers) =>
            new(name, i++ % partitions, key, value, [(NameHeader, Utf8(name)), .. headers]);

        yield return Bad("invalid-utf8", Utf8("bad-utf8"), [.. Utf8("{\"id\":\"x"), 0xC3, 0x28, 0xFF, 0xFE, .. Utf8("\",\"customer\":\"c\",\"amount\":1}")]);
        yield return Bad("invalid-utf8-key", [0xFF, 0xFE, 0x00, 0xC0], Utf8("{\"id\":\"k\",\"customer\":"));
        yield return Bad("truncated-json", Utf8("truncated"), Utf8("{\"id\":\"t\",\"customer\":\"c\",\"amo"));
        yield return Bad("not-json", Utf8("not-json"), Utf8("order #7: this is { not JSON"));
        yield return Bad("wrong-types", Utf8("wrong-types"), Utf8("{\"id\":5,\"customer\":true,\"amount\":\"lots\"}"));
        yield return Bad("array-not-object", Utf8("array"), Utf8("[1,2,3]"));
        yield return Bad("json-null", Utf8("json-null"), Utf8("null"));
        yield return Bad("null-value", Utf8("tombstone"), null);
        yield return Bad("null-key-and-value", null, null);
        yield return Bad("null-key-not-json", null, Utf8("<order/>"));
        yield return Bad("empty-value", Utf8("empty"), []);
        yield return Bad("binary", Utf8("binary"), [.. Enumerable.Range(0, 512).Select(b => (byte)(b * 37 % 256))]);
        yield return Bad("too-deep", Utf8("deep"), Utf8(new string('[', 1_000) + new string(']', 1_000)));
        yield return Bad("large-value", Utf8("large"), LargeMalformedValue());
        yield return Bad("huge-header", Utf8("huge-header"), Utf8("{\"id\":"), ("blob", [.. Enumerable.Repeat((byte)'h', HugeHeaderBytes)]));
        yield return Bad("garbage-traceparent", Utf8("garbage-trace"), Utf8("{nope"), ("traceparent", Utf8("this is not a trace context")));
        yield return Bad("binary-traceparent", Utf8("binary-trace"), Utf8("{nope"), ("traceparent", [0xFF, 0x00, 0x01]), ("tracestate", [0xC3]));
    }

    /// <summary>Good orders with awkward keys and headers: they must be processed normally.</summary>
    public static IEnumerable<RawMessage> AwkwardButGood(int partitions, int firstId)
    {
        var id = firstId;
        RawMessage Good(string name, byte[]? key, params (string, byte[])[] headers)
        {
            var n = id++;
            return new(name, n % partitions, key, Utf8(Order.Json(n)), [(NameHeader, Utf8(name)), .. headers]);
        }

        yield return Good("good-null-key", null);
        yield return Good("good-binary-key", [0xFF, 0x00, 0xFE]);
        yield return Good("good-garbage-traceparent", Utf8("g1"), ("traceparent", Utf8("00-not-a-trace-id-at-all")));
        yield return Good("good-wrong-version-traceparent", Utf8("g2"), ("traceparent", Utf8("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")));
        yield return Good("good-empty-traceparent", Utf8("g3"), ("traceparent", []));
        yield return Good("good-huge-header", Utf8("g4"), ("blob", [.. Enumerable.Repeat((byte)'g', HugeHeaderBytes)]));
        yield return Good("good-many-headers", Utf8("g5"), [.. Enumerable.Range(0, 500).Select(h => ("h" + h.ToString(CultureInfo.InvariantCulture), Utf8("v")))]);
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A 1 MiB value that starts like an order and never becomes valid JSON.</summary>
    private static byte[] LargeMalformedValue()
    {
        var prefix = Utf8("{\"id\":\"large\",\"customer\":\"");
        var value = new byte[LargeValueBytes];
        prefix.CopyTo(value, 0);
        value.AsSpan(prefix.Length).Fill((byte)'x'); // an unterminated string
        return value;
    }
}
