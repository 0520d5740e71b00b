// BenchmarkDotNet micro-benchmarks of the engine's hot path: see docs/benchmarks.md.
//
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --filter '*'
//   dotnet run -c Release --project bench/Meshinery.Benchmarks -- --filter '*Chain*' --job short
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
