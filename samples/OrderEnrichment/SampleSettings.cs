using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Meshinery.Kafka;

namespace OrderEnrichment;

/// <summary>The sample's command line. Other programs drive the sample through it, so it is strict: every problem names its option.</summary>
internal sealed record SampleSettings
{
    public const string Usage = """
        usage: OrderEnrichment [options]

          Without --bootstrap-servers: starts an embedded Kafka cluster (librdkafka's mock broker, in this process),
          creates the topics, seeds 10,000 orders and exits once all of them are processed and committed.

          --bootstrap-servers LIST       use this cluster instead; it seeds nothing unless --seed is given, creates topics
                                         only when seeding, and runs until Ctrl+C / SIGTERM unless --exit-when-idle is given
          --seed N                       orders to produce to the input topic first (embedded: 10000; otherwise 0)
          --seed-invalid N               malformed (non-JSON) messages to produce too, to see the dead-letter topic (0)
          --input-topic NAME             (orders)
          --output-topic NAME            (orders-enriched)
          --dead-letter-topic NAME       (orders-dead-letters)
          --group-id NAME                (order-enrichment)
          --partitions N                 partitions of the topics this program creates (8)
          --latency-ms N                 the blocking call's latency; the async call takes a fifth of it (50)
          --max-in-flight N              messages in flight at once (200)
          --worker-threads N             threads the blocking call can run on (default: --max-in-flight, so that every
                                         message in flight can block at once)
          --exit-when-idle SECONDS       after the first partition assignment, stop once no message has arrived for that
                                         long while holding partitions and nothing is in flight; the final offsets are
                                         committed, then it exits
          --commit-interval-ms N         how often offsets are committed (the library's default: 200 ms)
          --max-pending-per-partition N  the library's per-partition back-pressure limit (its default)
          --session-timeout-ms N         the consumer group session timeout (10000)
          --linger-ms N                  the output producers' linger.ms: how long a write waits to be batched (the library's default: 1)
          --ordering unordered|key|partition
                                         which orders may be enriched at once (unordered); key: one order at a time per
                                         Kafka message key, and the seeder then keys the orders by customer, so each
                                         customer's orders are enriched and written in their input order
          --assignment PROTOCOL          the consumer group protocol: range, roundrobin or cooperative-sticky (the library's
                                         default: cooperative-sticky)
          --profile                      also report where each message spends its time (per-step durations)
          --verbose                      Meshinery's debug logs (partition pauses and resumes, ...)
          --otel-console                 export Meshinery's metrics (every 5 s) and traces (one per message) to stdout with
                                         OpenTelemetry's console exporter, before the summary line; use with a small --seed
          --describe                     print the task topology as a Mermaid flowchart on stdout and exit (seeds nothing,
                                         starts no consumer)
          -h, --help                     this text

        The last line on stdout is the summary:
          processed=N failed=N dead-lettered=N elapsed_s=X throughput_per_s=Y
        Exit codes: 0 success, 1 failure, 2 bad arguments.
        """;

    public const int DefaultEmbeddedSeed = 10_000;

    /// <summary>Bootstrap servers of an existing cluster, or <see langword="null"/> for an embedded one.</summary>
    public string? BootstrapServers { get; init; }

    public bool IsEmbedded => BootstrapServers is null;

    /// <summary>Orders to seed; <see langword="null"/> when not given (embedded: <see cref="DefaultEmbeddedSeed"/>, otherwise none).</summary>
    public int? Seed { get; init; }

    public int SeedCount => Seed ?? (IsEmbedded ? DefaultEmbeddedSeed : 0);

    public int SeedInvalid { get; init; }

    /// <summary>Whether this run produces messages before it starts consuming.</summary>
    public bool IsSeeding => SeedCount + SeedInvalid > 0;

    public string InputTopic { get; init; } = "orders";

    public string OutputTopic { get; init; } = "orders-enriched";

    public string DeadLetterTopic { get; init; } = "orders-dead-letters";

    public string GroupId { get; init; } = "order-enrichment";

    public int Partitions { get; init; } = 8;

    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The async call's latency: a fifth of the blocking one.</summary>
    public TimeSpan AsyncLatency => Latency / 5;

    public int MaxInFlight { get; init; } = 200;

    /// <summary>Worker threads; <see langword="null"/>: as many as <see cref="MaxInFlight"/>.</summary>
    public int? WorkerThreads { get; init; }

    public TimeSpan? ExitWhenIdle { get; init; }

    public TimeSpan? CommitInterval { get; init; }

    public int? MaxPendingPerPartition { get; init; }

    public TimeSpan SessionTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int? LingerMs { get; init; }

    public Meshinery.TaskOrdering Ordering { get; init; }
    /// <summary>The group protocol (<c>--assignment</c>); <see langword="null"/>: the library's default.</summary>
    public PartitionAssignment? Assignment { get; init; }

    public bool Profile { get; init; }

    public bool Verbose { get; init; }

    /// <summary>Print the topology (<c>engine.Describe().ToMermaid()</c>) and exit.</summary>
    public bool Describe { get; init; }

    /// <summary>Export metrics and traces with OpenTelemetry's console exporter.</summary>
    public bool OtelConsole { get; init; }

    /// <summary>
    /// Parses <c>--name value</c> and <c>--name=value</c>. Returns <see langword="false"/> with a problem naming the
    /// option, or with no problem for <c>--help</c>.
    /// </summary>
    public static bool TryParse(string[] args, [NotNullWhen(true)] out SampleSettings? settings, out string? problem)
    {
        settings = null;
        problem = null;
        var result = new SampleSettings();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=', StringComparison.Ordinal) is var eq and > 0
                ? (arg[..eq], arg[(eq + 1)..])
                : (arg, null);

            if (name is "-h" or "--help")
            {
                return false;
            }

            if (name is "--profile" or "--verbose" or "--describe" or "--otel-console")
            {
                if (inlineValue is not null)
                {
                    problem = $"{name} takes no value (was '{arg}')";
                    return false;
                }

                result = name switch
                {
                    "--profile" => result with { Profile = true },
                    "--describe" => result with { Describe = true },
                    "--otel-console" => result with { OtelConsole = true },
                    _ => result with { Verbose = true },
                };
                continue;
            }

            if (!IsKnown(name))
            {
                problem = name.StartsWith('-') ? $"unknown option '{name}'" : $"unexpected argument '{arg}' (options start with --)";
                return false;
            }

            if (!seen.Add(name))
            {
                problem = $"{name} is given more than once";
                return false;
            }

            string value;
            if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                problem = $"{name} needs a value";
                return false;
            }

            if (!TryApply(result, name, value, out result, out problem))
            {
                return false;
            }
        }

        settings = result;
        return true;
    }

    private static bool IsKnown(string name) => name is
        "--bootstrap-servers" or "--seed" or "--seed-invalid" or "--input-topic" or "--output-topic" or "--dead-letter-topic"
        or "--group-id" or "--partitions" or "--latency-ms" or "--max-in-flight" or "--worker-threads" or "--exit-when-idle"
        or "--commit-interval-ms" or "--max-pending-per-partition" or "--session-timeout-ms" or "--linger-ms" or "--ordering" or "--assignment";

    private static bool TryApply(SampleSettings current, string name, string value, out SampleSettings updated, out string? problem)
    {
        updated = current;
        problem = null;
        switch (name)
        {
            case "--bootstrap-servers":
                if (string.IsNullOrWhiteSpace(value))
                {
                    problem = "--bootstrap-servers needs a host:port list (was empty)";
                    return false;
                }

                updated = current with { BootstrapServers = value.Trim() };
                return true;
            case "--input-topic" or "--output-topic" or "--dead-letter-topic":
                if (!IsValidTopic(value))
                {
                    problem = $"{name} needs a topic name of 1 to 249 characters from [a-zA-Z0-9._-] (was '{value}')";
                    return false;
                }

                updated = name switch
                {
                    "--input-topic" => current with { InputTopic = value },
                    "--output-topic" => current with { OutputTopic = value },
                    _ => current with { DeadLetterTopic = value },
                };
                return true;
            case "--ordering":
                if (value is not ("unordered" or "key" or "partition"))
                {
                    problem = $"--ordering needs unordered, key or partition (was '{value}')";
                    return false;
                }

                updated = current with { Ordering = Enum.Parse<Meshinery.TaskOrdering>(value, ignoreCase: true) };
                return true;
            case "--group-id":
                if (string.IsNullOrWhiteSpace(value))
                {
                    problem = "--group-id needs a consumer group name (was empty)";
                    return false;
                }

                updated = current with { GroupId = value };
                return true;
            case "--exit-when-idle":
                if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) || seconds <= 0 || seconds > 86_400)
                {
                    problem = $"--exit-when-idle needs a number of seconds greater than 0 and at most 86400, such as 2 or 0.5 (was '{value}')";
                    return false;
                }

                updated = current with { ExitWhenIdle = TimeSpan.FromSeconds(seconds) };
                return true;
            case "--assignment":
                PartitionAssignment? assignment = value switch
                {
                    "range" => PartitionAssignment.Range,
                    "roundrobin" => PartitionAssignment.RoundRobin,
                    "cooperative-sticky" => PartitionAssignment.CooperativeSticky,
                    _ => null,
                };
                if (assignment is null)
                {
                    problem = $"--assignment needs range, roundrobin or cooperative-sticky (was '{value}')";
                    return false;
                }

                updated = current with { Assignment = assignment };
                return true;
        }

        var (min, max) = name switch
        {
            "--seed" or "--seed-invalid" => (0, 100_000_000),
            "--partitions" => (1, 10_000),
            "--latency-ms" => (0, 60_000),
            "--max-in-flight" or "--worker-threads" => (1, 10_000),
            "--commit-interval-ms" => (10, 3_600_000),
            "--max-pending-per-partition" => (1, 10_000_000),
            "--linger-ms" => (0, 900_000),
            _ => (1_000, 3_600_000), // --session-timeout-ms
        };
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            problem = string.Create(CultureInfo.InvariantCulture, $"{name} needs a whole number from {min} to {max} (was '{value}')");
            return false;
        }

        updated = name switch
        {
            "--seed" => current with { Seed = number },
            "--seed-invalid" => current with { SeedInvalid = number },
            "--partitions" => current with { Partitions = number },
            "--latency-ms" => current with { Latency = TimeSpan.FromMilliseconds(number) },
            "--max-in-flight" => current with { MaxInFlight = number },
            "--worker-threads" => current with { WorkerThreads = number },
            "--commit-interval-ms" => current with { CommitInterval = TimeSpan.FromMilliseconds(number) },
            "--max-pending-per-partition" => current with { MaxPendingPerPartition = number },
            "--linger-ms" => current with { LingerMs = number },
            _ => current with { SessionTimeout = TimeSpan.FromMilliseconds(number) },
        };
        return true;
    }

    private static bool IsValidTopic(string name) =>
        name.Length is > 0 and <= 249 && name is not ("." or "..") && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
