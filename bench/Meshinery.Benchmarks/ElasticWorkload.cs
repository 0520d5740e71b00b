using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Meshinery.Benchmarks;

/// <summary>
/// An elastic pool following a load step (<c>--elastic</c>): a task with <c>WithWorkerThreads(4, 200, idle 1 s)</c> and a
/// 20 ms blocking step (capacity 200 / 20 ms = 10,000 items/s) gets 10 % of that load for 5 s, 100 % for 5 s,
/// 10 % for 6 s, then nothing for 4 s. Every 500 ms it prints the pool's size (the <c>meshinery.workers.size</c> gauge), the process's
/// threads, the items completed in that interval per second and a bar of the pool size.
/// </summary>
internal static class ElasticWorkload
{
    private const int Capacity = 10_000; // items/s at 200 threads and 20 ms

    public static int Run()
    {
        var input = new InMemoryInput<int>("load", capacity: 100_000);
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("elastic", task => task
            .ReadFrom(input)
            .WithMaxInFlight(400)
            .WithWorkerThreads(4, 200, TimeSpan.FromSeconds(1))
            .Do(_ => Thread.Sleep(20))));
        var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<MeshineryEngine>();

        var poolSize = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Meshinery" && instrument.Name == "meshinery.workers.size")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "meshinery.pool", Value: "elastic" })
                {
                    poolSize = value;
                }
            }
        });
        listener.Start();
        engine.StartAsync().GetAwaiter().GetResult();

        (double Seconds, double Load)[] phases = [(5, 0.1), (5, 1.0), (6, 0.1), (4, 0.0)];
        Console.WriteLine("time_s  load  pool_size  process_threads  completed_per_s");
        var started = Stopwatch.GetTimestamp();
        var written = 0L;
        var lastSample = 0.0;
        var lastCompleted = 0L;
        var phaseStart = 0.0;
        foreach (var (seconds, load) in phases)
        {
            var rate = Capacity * load;
            while (true)
            {
                var now = Stopwatch.GetElapsedTime(started).TotalSeconds;
                if (now >= phaseStart + seconds)
                {
                    break;
                }

                // Write what the phase's rate owes by now (paced by the clock, not by the sleep below).
                var due = (long)(WrittenBefore(phases, phaseStart) + ((now - phaseStart) * rate));
                while (written < due && input.TryWrite((int)written))
                {
                    written++;
                }

                if (now - lastSample >= 0.5)
                {
                    listener.RecordObservableInstruments();
                    var completed = input.Completed;
                    Console.WriteLine(FormattableString.Invariant(
                        $"{now,6:F1}  {load * 100,3:F0}%  {poolSize,9}  {Process.GetCurrentProcess().Threads.Count,15}  {(completed - lastCompleted) / (now - lastSample),15:F0}  {new string('#', poolSize / 4)}"));
                    lastCompleted = completed;
                    lastSample = now;
                }

                Thread.Sleep(5);
            }

            phaseStart += seconds;
        }

        input.Complete();
        input.AllAcknowledged.Wait(TimeSpan.FromMinutes(1));
        Console.WriteLine(FormattableString.Invariant($"written {written:N0}, completed {input.Completed:N0}"));
        provider.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return 0;
    }

    private static double WrittenBefore((double Seconds, double Load)[] phases, double phaseStart)
    {
        var total = 0.0;
        var at = 0.0;
        foreach (var (seconds, load) in phases)
        {
            if (at >= phaseStart)
            {
                break;
            }

            total += seconds * load * Capacity;
            at += seconds;
        }

        return total;
    }
}
