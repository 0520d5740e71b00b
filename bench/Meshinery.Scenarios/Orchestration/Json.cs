using System.Text.Json;
using System.Text.Json.Serialization;

namespace Meshinery.Scenarios.Orchestration;

internal static class Json
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    public static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    /// <summary>The results file: every field present, null where it does not apply.</summary>
    public static readonly JsonSerializerOptions Results = new(Options) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };
}
