using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Benchmarks;

/// <summary>
/// Key ordering against unordered on one partition (<c>--key-order ROUNDS</c>): an in-memory input, an async step that
/// waits L = 50 ms (it holds no thread), C = 200 runs in flight, and 10, 100 or 1,000 distinct keys (item i has key
/// i mod keys) against no ordering. Throughput is compared with its bound min(C, keys) / L. Each configuration is sized
/// to run about 5 s at its bound; the configurations alternate within each round, and the median of the rounds is
/// reported with every round's figure.
/// </summary>
internal static class KeyOrderWorkload
{
    private const int Concurrency = 200;
    private static readonly TimeSpan Latency = TimeSpan.FromMilliseconds(50);

    public static int Run(int rounds)
    {
        int?[] configurations = [null, 10, 100, 1_000];
        var results = configurations.ToDictionary(c => c ?? 0, _ => new List<double>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var keys in configurations)
            {
                var bound = Bound(keys);
                var messages = (int)(bound * 5);
                var throughput = Measure(keys, messages);
                results[keys ?? 0].Add(throughput);
                Console.WriteLine(FormattableString.Invariant(
                    $"round {round} {Name(keys),-10} messages={messages,6} throughput={throughput,8:F1}/s bound={bound,6:F0}/s ratio={throughput / bound:F3}"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| ordering | keys | bound min(C, keys) / L | throughput (median) | ratio to bound | rounds |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | --- |");
        foreach (var keys in configurations)
        {
            var figures = results[keys ?? 0];
            var median = Median(figures);
            Console.WriteLine(FormattableString.Invariant(
                $"| {(keys is null ? "unordered" : "by key")} | {(keys is null ? "-" : keys.Value.ToString("N0", CultureInfo.InvariantCulture))} | {Bound(keys):N0}/s | {median:N0}/s | {median / Bound(keys):F3} | {string.Join(", ", figures.Select(f => f.ToString("N0", CultureInfo.InvariantCulture)))} |"));
        }

        return 0;
    }

    private static double Bound(int? keys) => Math.Min(Concurrency, keys ?? int.MaxValue) / Latency.TotalSeconds;

    private static string Name(int? keys) => keys is null ? "unordered" : $"keys={keys}";

    private static double Measure(int? keys, int messages)
    {
        var input = new InMemoryInput<int>("keyed", capacity: messages);
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .Configure(options => options.WorkerThreads = 8) // the step awaits: threads only start it
            .AddTask<int>("key-order", task =>
            {
                var ordered = task.ReadFrom(input).WithMaxInFlight(Concurrency);
                if (keys is { } count)
                {
                    ordered = ordered.OrderByKey(i => i % count);
                }

                ordered.Process(async (i, ct) =>
                {
                    await Task.Delay(Latency, ct).ConfigureAwait(false);
                    return i;
                });
            }));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        for (var i = 0; i < messages; i++)
        {
            if (!input.TryWrite(i))
            {
                throw new InvalidOperationException("the input is full");
            }
        }

        input.Complete();
        var started = Stopwatch.GetTimestamp();
        engine.StartAsync().GetAwaiter().GetResult();
        if (!input.AllAcknowledged.Wait(TimeSpan.FromMinutes(2)))
        {
            throw new TimeoutException($"{Name(keys)}: not every message was acknowledged within 2 minutes");
        }

        var elapsed = Stopwatch.GetElapsedTime(started).TotalSeconds;
        provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return input.Completed == messages ? messages / elapsed : throw new InvalidOperationException($"{Name(keys)}: {input.Completed} of {messages} completed");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
