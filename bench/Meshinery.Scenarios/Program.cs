// The scenario harness: see docs/benchmarks.md.
//
//   ./build.sh bench --quick --out artifacts/bench/quick.json
//   dotnet run -c Release --project bench/Meshinery.Scenarios -- --out artifacts/bench/full.json
//
// The parent process hosts the embedded Kafka cluster and seeds the input topics; every system runs in a child
// process of its own (this program with --child), so that its CPU time and working set are measured alone.
using System.Globalization;
using Meshinery.Scenarios;
using Meshinery.Scenarios.Orchestration;

if (args is ["--child"])
{
    try
    {
        return await ChildRunner.RunAsync();
    }
    catch (Exception error)
    {
        Console.Error.WriteLine($"child failed: {error}");
        return 1;
    }
}

if (!HarnessOptions.TryParse(args, out var options, out var problem))
{
    if (problem is not null)
    {
        Console.Error.WriteLine($"error: {problem}");
    }

    Console.Error.WriteLine(HarnessOptions.Usage);
    return problem is null ? 0 : 2;
}

if (options.List)
{
    foreach (var workload in Plan.Create(options.Quick))
    {
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{workload.Id,-20} {workload.Name,-9} P={workload.Partitions} L={workload.LatencyMs} ms C={workload.Concurrency} messages={workload.Seeded:N0} systems={string.Join(',', workload.Systems)}"));
    }

    return 0;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    interrupted.Cancel();
};

try
{
    return await new Orchestrator(options).RunAsync(interrupted.Token);
}
catch (OperationCanceledException) when (interrupted.IsCancellationRequested)
{
    Console.Error.WriteLine("interrupted");
    return 130;
}
