using System.Globalization;

namespace Meshinery.Scenarios;

/// <summary>The command line of the harness.</summary>
internal sealed record HarnessOptions
{
    public const string Usage = """
        Meshinery scenario harness: a sequential consume loop, key-hash workers and Meshinery side by side on an embedded
        Kafka cluster (see docs/benchmarks.md).

        usage: dotnet run -c Release --project bench/Meshinery.Scenarios -- [options]
          --quick            smaller workloads, one run each (under 3 minutes on 2 cores)
          --repeat N         runs per system and workload; medians are reported (default: 1 with --quick, else 3)
          --out FILE         write the results as JSON (an array of rows)
          --only A,B         only workloads whose id starts with A or B (e.g. blocking-p1,noop; open-, keyorder-, scaleout-, priority-, elastic-)
          --systems A,B      only these systems (sequential, key-hash-workers, meshinery, streamiz, raw-loop, consume-only,
                             meshinery-in-memory)
          --list             print the workloads and exit
          --help             this text
        """;

    public bool Quick { get; init; }

    public int Repeat { get; init; } = 3;

    public string? OutFile { get; init; }

    public IReadOnlyList<string> Only { get; init; } = [];

    public IReadOnlyList<string> Systems { get; init; } = [];

    public bool List { get; init; }

    public static bool TryParse(string[] args, out HarnessOptions options, out string? problem)
    {
        options = new HarnessOptions();
        problem = null;
        int? repeat = null;
        for (var i = 0; i < args.Length; i++)
        {
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (args[i])
            {
                case "--quick":
                    options = options with { Quick = true };
                    break;
                case "--repeat" when int.TryParse(Value(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0:
                    repeat = n;
                    break;
                case "--out" when Value() is { Length: > 0 } file:
                    options = options with { OutFile = file };
                    break;
                case "--only" when Value() is { Length: > 0 } only:
                    options = options with { Only = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                    break;
                case "--systems" when Value() is { Length: > 0 } systems:
                    options = options with { Systems = systems.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) };
                    break;
                case "--list":
                    options = options with { List = true };
                    break;
                case "--help" or "-h":
                    return false;
                default:
                    problem = $"unknown or incomplete option '{args[i]}'";
                    return false;
            }
        }

        options = options with { Repeat = repeat ?? (options.Quick ? 1 : 3) };
        return true;
    }
}
