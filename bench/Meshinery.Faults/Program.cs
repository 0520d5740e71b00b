// The fault-injection tool: runs the OrderEnrichment sample as separate processes against one embedded Kafka cluster
// hosted here (loopback only), injects one fault per scenario and checks, once every instance has exited, that every
// input message has its output (or dead letter) and its committed offset, counting duplicates against the bound of
// docs/delivery-guarantees.md. Every scenario is bounded in messages and time and stops by itself.
//
//   ./build.sh faults                        every scenario but the soak
//   ./build.sh faults --scenario crash       one (or a comma-separated list; --list names them)
//   ./build.sh faults --scenario soak --soak-minutes 2
//   ./build.sh faults --scenario churn --assignment cooperative-sticky   the sample's group protocol, for churn
//   ./build.sh faults --scenario scale-out --results bench/results/scale-out   1 instance, then 3 (issue 8's figure)
//   ./build.sh faults --experiment outage-clients [--debug broker,protocol,...]   plain clients only, the broker down 10 s
//
// Results: bench/results/faults/NAME.json, NAME.log and summary.md. Exit code 1 when a scenario failed its checks.
using System.Globalization;
using Meshinery.Faults.Experiments;
using Meshinery.Faults.Processes;
using Meshinery.Faults.Reporting;
using Meshinery.Faults.Scenarios;

var names = new List<string>();
var soakMinutes = 30.0;
string? assignment = null;
string? experiment = null;
var debug = "broker,protocol,eos,msg,cgrp,topic";
string? child = null;
var scaleOutArguments = new List<string>();
var results = Path.Combine(SampleInstance.RepositoryRoot(), "bench", "results", "faults");
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--scenario" when i + 1 < args.Length:
            names.AddRange(args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            break;
        case "--soak-minutes" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var minutes) && minutes is > 0 and <= 240:
            soakMinutes = minutes;
            i++;
            break;
        case "--assignment" when i + 1 < args.Length:
            assignment = args[++i];
            break;
        case "--max-in-flight" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var slots) && slots > 0:
            scaleOutArguments.AddRange(["--max-in-flight", args[++i]]);
            break;
        case "--linger-ms" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out _):
            scaleOutArguments.AddRange(["--linger-ms", args[++i]]);
            break;
        case "--experiment" when i + 1 < args.Length:
            experiment = args[++i];
            break;
        case "--debug" when i + 1 < args.Length:
            debug = args[++i];
            break;
        case "--child" when i + 1 < args.Length && args[i + 1] is "inherit" or "cloexec":
            child = args[++i];
            break;
        case "--results" when i + 1 < args.Length:
            results = Path.GetFullPath(args[++i]);
            break;
        case "--list":
            foreach (var scenario in AllScenarios(soakMinutes, assignment, scaleOutArguments))
            {
                Console.WriteLine($"{scenario.Name,-24} {scenario.Description}{(scenario.RunsByDefault ? "" : " (only when named)")}");
            }

            return 0;
        default:
            Console.Error.WriteLine($"unknown or incomplete option '{args[i]}'");
            Console.Error.WriteLine("usage: ./build.sh faults [--scenario NAME[,NAME...]] [--soak-minutes N (at most 240)] [--results DIR] [--assignment range|roundrobin|cooperative-sticky (churn)] [--max-in-flight N] [--linger-ms N] (scale-out) [--list] | --experiment outage-clients [--debug CONTEXTS|none] [--child inherit|cloexec] [--results DIR]");
            return 2;
    }
}

if (experiment is not null)
{
    if (experiment != OutageClientsExperiment.Name)
    {
        Console.Error.WriteLine($"unknown experiment '{experiment}' (there is: {OutageClientsExperiment.Name})");
        return 2;
    }

    return await OutageClientsExperiment.RunAsync(results, TimeSpan.FromSeconds(10), debug == "none" ? "" : debug, child);
}

var all = AllScenarios(soakMinutes, assignment, scaleOutArguments).ToList();
var unknown = names.Where(n => all.All(s => s.Name != n)).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"unknown scenario(s): {string.Join(", ", unknown)}; --list names them");
    return 2;
}

var selected = names.Count == 0 ? all.Where(s => s.RunsByDefault).ToList() : all.Where(s => names.Contains(s.Name)).ToList();
var failed = 0;
foreach (var scenario in selected)
{
    Console.Error.WriteLine($"=== {scenario.Name}: {scenario.Description}");
    await using var run = await ScenarioRun.StartAsync(scenario.Name, scenario.Partitions, scenario.Brokers);
    var result = await scenario.RunAsync(run);
    ResultWriter.Write(results, result, run.Transcript());
    Console.WriteLine(ResultWriter.Table([result]).Split('\n')[2]);
    if (!result.Passed)
    {
        failed++;
        Console.Error.WriteLine($"=== {scenario.Name}: FAILED its checks (see {Path.Combine(results, scenario.Name + ".log")})");
    }
}

Console.Error.WriteLine($"results in {results}");
return failed == 0 ? 0 : 1;

static IEnumerable<Scenario> AllScenarios(double soakMinutes, string? assignment, IReadOnlyList<string> scaleOutArguments) =>
[
    new ChurnScenario(assignment),
    new CrashScenario(),
    new BrokerOutageScenario(),
    new BrokerOutageScenario("outage-in-session", 45_000),
    .. RequestErrorsScenario.All(),
    new DeadLetterUnavailableScenario(),
    new SoakScenario(TimeSpan.FromMinutes(soakMinutes)),
    new ScaleOutScenario(scaleOutArguments),
];
