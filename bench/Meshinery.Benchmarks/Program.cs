// BenchmarkDotNet micro-benchmarks of the engine's hot path: see docs/benchmarks.md.
//
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --filter '*'
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --filter '*Chain*' --job short
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --soak 1 2 200     (no timing: hang check)
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --key-order 3       (key ordering against unordered)
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --priority 3        (urgent latency with and without lanes)
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --elastic           (an elastic pool through a load step)
using System.Globalization;
using BenchmarkDotNet.Running;
using Meshinery.Benchmarks;

if (args is ["--soak", var steps, var workers, var batches])
{
    return ChainBenchmarks.Soak(
        int.Parse(steps, CultureInfo.InvariantCulture), int.Parse(workers, CultureInfo.InvariantCulture), int.Parse(batches, CultureInfo.InvariantCulture));
}

if (args is ["--key-order", var rounds])
{
    return KeyOrderWorkload.Run(int.Parse(rounds, CultureInfo.InvariantCulture));
}

if (args is ["--priority", var priorityRounds])
{
    return PriorityWorkload.Run(int.Parse(priorityRounds, CultureInfo.InvariantCulture));
}

if (args is ["--elastic"])
{
    return ElasticWorkload.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
