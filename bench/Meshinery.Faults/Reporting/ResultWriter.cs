using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Meshinery.Faults.Reporting;

/// <summary>
/// Writes <c>NAME.json</c> (the result) and <c>NAME.log</c> (the tool's events and every instance's output, in time
/// order) per scenario, and <c>summary.md</c>: a table of every result in the folder.
/// </summary>
internal static class ResultWriter
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(string directory, ScenarioResult result, IEnumerable<string> transcript)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, result.Scenario + ".json"), JsonSerializer.Serialize(result, s_json) + "\n");
        File.WriteAllLines(Path.Combine(directory, result.Scenario + ".log"), transcript);
        var all = Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal)
            .Select(f => JsonSerializer.Deserialize<ScenarioResult>(File.ReadAllText(f), s_json)!)
            .ToList();
        File.WriteAllText(Path.Combine(directory, "summary.md"), Table(all));
    }

    public static string Table(IReadOnlyList<ScenarioResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| scenario | messages | faults injected | lost | duplicates (documented bound / issue target) | uncommitted partitions | time to recover (s) | exit codes | load before → after |");
        text.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var r in results)
        {
            var recovery = string.Join("; ", r.Recovery.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}: {(p.Value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) : "n/a")}")));
            var exits = string.Join(", ", r.Instances.Select(i => $"{i.Name}={(i.KilledByScenario ? "killed" : i.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "hung")}"));
            text.AppendLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {r.Scenario} | {r.Orders:N0} + {r.Malformed} malformed, {r.Partitions} partitions | {r.Faults} | {r.Lost} | {r.Duplicates:N0} ({r.DocumentedBound:N0} / {r.Target:N0}) | {r.UncommittedPartitions} | {recovery} | {exits} | {Load(r.LoadBefore)} → {Load(r.LoadAfter)} |"));
        }

        return text.ToString();
    }

    private static string Load(string loadavg) => string.Join(' ', loadavg.Split(' ').Take(3));
}
