using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Benchmarks;

/// <summary>
/// Latency of high-priority items behind a backlog (<c>--priority ROUNDS</c>): 100,000 normal items are queued in the
/// engine (in flight, waiting for one of 16 workers; each takes a 1 ms blocking step), then 200 urgent items arrive
/// one every 10 ms on a second input. Without lanes the urgent input is a plain <c>ReadFrom</c>; with lanes it is
/// <c>ReadPriorityFrom</c> (ambulance), or that plus 2 reserved workers (carpool). Reported: p50 and p99 of the urgent
/// items' time from write to acknowledgement, per configuration and round.
/// </summary>
internal static class PriorityWorkload
{
    private const int Backlog = 100_000;
    private const int Urgent = 200;
    private const int Workers = 16;

    private enum Lanes
    {
        None,
        Ambulance,
        Carpool,
    }

    public static int Run(int rounds)
    {
        var results = new Dictionary<Lanes, List<(double P50, double P99)>>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var lanes in Enum.GetValues<Lanes>())
            {
                var (p50, p99) = Measure(lanes);
                (results.TryGetValue(lanes, out var list) ? list : results[lanes] = []).Add((p50, p99));
                Console.WriteLine(FormattableString.Invariant($"round {round} {lanes,-9} urgent p50={p50,8:F1} ms p99={p99,8:F1} ms"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| lanes | urgent p50 (median of rounds) | urgent p99 (median of rounds) |");
        Console.WriteLine("| --- | ---: | ---: |");
        foreach (var (lanes, figures) in results)
        {
            Console.WriteLine(FormattableString.Invariant(
                $"| {lanes} | {Median(figures.Select(f => f.P50)):F1} ms | {Median(figures.Select(f => f.P99)):F1} ms |"));
        }

        return 0;
    }

    private static (double P50, double P99) Measure(Lanes lanes)
    {
        var normal = new InMemoryInput<long>("normal", capacity: Backlog);
        var urgent = new InMemoryInput<long>("urgent", capacity: Urgent);
        var latencies = new ConcurrentQueue<double>();
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh
            .Configure(options => options.MaxInFlight = Backlog + Urgent)
            .AddTask<long>("priority", task =>
            {
                var builder = task.ReadFrom(normal).WithMaxInFlight(Backlog + Urgent).WithWorkerThreads(Workers);
                builder = lanes == Lanes.None ? builder.ReadFrom(urgent) : builder.ReadPriorityFrom(urgent);
                if (lanes == Lanes.Carpool)
                {
                    builder = builder.WithReservedWorkers(2);
                }

                builder
                    .Do(_ => Thread.Sleep(1)) // a blocking call
                    .Do(written =>
                    {
                        if (written < 0)
                        {
                            latencies.Enqueue(Stopwatch.GetElapsedTime(-written).TotalMilliseconds);
                        }
                    });
            }));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();
        for (var i = 0; i < Backlog; i++)
        {
            normal.TryWrite(i);
        }

        engine.StartAsync().GetAwaiter().GetResult();
        for (var i = 0; i < Urgent; i++)
        {
            Thread.Sleep(10);
            urgent.TryWrite(-Stopwatch.GetTimestamp()); // negative: an urgent item carries its write time
        }

        urgent.Complete();
        if (!urgent.AllAcknowledged.Wait(TimeSpan.FromMinutes(5)))
        {
            throw new TimeoutException($"{lanes}: the urgent items were not all acknowledged within 5 minutes");
        }

        var backlogLeft = Backlog - normal.Acknowledged;
        provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var sorted = latencies.Order().ToArray();
        Console.WriteLine(FormattableString.Invariant($"  ({lanes}: {backlogLeft:N0} normal items still unacknowledged when the last urgent one was)"));
        return (sorted[(int)(0.5 * (sorted.Length - 1))], sorted[(int)(0.99 * (sorted.Length - 1))]);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
