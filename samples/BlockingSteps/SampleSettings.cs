using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BlockingSteps;

/// <summary>The sample's command line.</summary>
internal sealed record SampleSettings(int Items, TimeSpan Latency, int Workers, int LogEvery)
{
    public const string Usage =
        "usage: BlockingSteps [--items N (2000)] [--latency-ms N (50)] [--workers N (200)] [--log-every N (500)]";

    /// <summary>Parses <c>--name value</c> and <c>--name=value</c>; returns false with a problem, or with none for --help.</summary>
    public static bool TryParse(string[] args, [NotNullWhen(true)] out SampleSettings? settings, out string? problem)
    {
        settings = null;
        problem = null;
        int items = 2_000, latencyMs = 50, workers = 200, logEvery = 500;
        for (var i = 0; i < args.Length; i++)
        {
            var (name, value) = args[i].Split('=', 2) is [var n, var v] ? (n, v) : (args[i], null);
            if (name is "-h" or "--help")
            {
                return false;
            }

            if (value is null && i + 1 < args.Length)
            {
                value = args[++i];
            }

            ref var target = ref items;
            int min = 0, max = int.MaxValue;
            switch (name)
            {
                case "--items": target = ref items; break;
                case "--latency-ms": target = ref latencyMs; max = 60_000; break;
                case "--workers": target = ref workers; min = 1; max = 10_000; break;
                case "--log-every": target = ref logEvery; min = 1; break;
                default:
                    problem = $"unknown option '{args[i]}'";
                    return false;
            }

            if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
            {
                problem = $"{name} needs a whole number from {min} to {max} (was '{value}')";
                return false;
            }

            target = number;
        }

        settings = new SampleSettings(items, TimeSpan.FromMilliseconds(latencyMs), workers, logEvery);
        return true;
    }
}
