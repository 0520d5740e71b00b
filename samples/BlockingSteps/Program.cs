// BlockingSteps: many blocking steps at once.
//
// 2,000 orders (--items) go through a task whose first step is a legacy call that blocks its thread for 50 ms
// (--latency-ms). Done one after the other that is 100 s; Meshinery runs the blocking step on 200 worker threads
// (--workers) at once, so the batch takes about items × latency / workers = 0.5 s plus the async steps.
//
//   dotnet run -c Release --project samples/BlockingSteps -- --items 2000 --latency-ms 50 --workers 200
using System.Diagnostics;
using System.Globalization;
using BlockingSteps;
using Meshinery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

const string TaskName = "enrich-orders";

if (!SampleSettings.TryParse(args, out var settings, out var problem))
{
    if (problem is not null)
    {
        Console.Error.WriteLine(problem);
    }

    Console.Error.WriteLine(SampleSettings.Usage);
    return problem is null ? 0 : 2; // --help is not a problem
}

// The input: an in-memory source seeded with every order, then completed, so that batch mode knows when it is done.
var orders = new InMemoryInput<Order>("orders", capacity: Math.Max(1, settings.Items));
for (var id = 1; id <= settings.Items; id++)
{
    if (!orders.TryWrite(Order.Create(id)))
    {
        throw new InvalidOperationException("The input is smaller than the batch.");
    }
}

orders.Complete();
var quotes = new InMemoryOutput<Quote>("quotes");

var builder = Host.CreateApplicationBuilder();

// One line per log entry, with the logging scopes: inside a step the scope is the run's (task, run id, source
// position and the properties the steps added), whatever thread the step runs on.
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(console =>
{
    console.IncludeScopes = true;
    console.SingleLine = true;
    console.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);

builder.Services.AddMeshinery(mesh => mesh
    .Configure(options =>
    {
        options.WorkerThreads = settings.Workers; // one thread per blocking call we want at once
        options.StopWhenDrained = true;           // batch mode: stop (and stop the host) once every order is done
    })
    .AddTask<Order>(TaskName, (services, task) =>
    {
        var loggers = services.GetRequiredService<ILoggerFactory>();
        var catalog = new LegacyCatalog(settings.Latency, settings.LogEvery, loggers.CreateLogger<LegacyCatalog>());
        var pricing = new PricingService(settings.Latency / 5, settings.LogEvery, loggers.CreateLogger<PricingService>());
        var shipping = new ShippingService(settings.Latency / 5, settings.LogEvery, loggers.CreateLogger<ShippingService>());

        task.ReadFrom(orders)
            // Runs in flight must exceed the workers, or the in-flight limit (not the pool) caps the parallelism:
            // each run also spends time in the async steps, holding a slot but no worker.
            .WithMaxInFlight(settings.Workers * 2)
            .WithData("legacy.system", "catalog-v1")
            .Process(order => catalog.Lookup(order), "legacy-lookup")              // blocks a worker thread
            .Process((item, ct) => pricing.PriceAsync(item, ct), "price")         // awaits: holds no thread
            .Where(priced => !priced.Discontinued, "not-discontinued")            // drops every 10th order
            .ForkJoin(
                (priced, ct) => shipping.QuoteAsync(priced, ct),                   // both branches at once
                (priced, _) => ValueTask.FromResult(TaxTable.TaxFor(priced)),     // a quick sync branch
                (priced, shippingCost, tax) => new Quote(priced.Order.Id, priced.Total, shippingCost, tax),
                "quote")
            .WriteTo(quotes);
    }));

TaskStatistics stats;
TimeSpan elapsed;
using (var host = builder.Build())
{
    var engine = host.Services.GetRequiredService<MeshineryEngine>();
    var stoppedAt = engine.Completion.ContinueWith(
        static _ => Stopwatch.GetTimestamp(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    await host.StartAsync(); // starts the engine: its sources, worker pool, poll loop and run loop
    var startedAt = Stopwatch.GetTimestamp();
    using var progressStop = new CancellationTokenSource();
    var progress = ProgressReporter.RunAsync(engine, TaskName, settings.Items, TimeSpan.FromMilliseconds(500), Console.Error, progressStop.Token);

    // Returns once the host has stopped: batch mode stops the engine when every order is done, and the engine then
    // stops the host (MeshineryOptions.StopApplicationWhenStopped). Ctrl+C stops it too, after draining what is in flight.
    await host.WaitForShutdownAsync();
    await progressStop.CancelAsync();
    await progress;

    elapsed = Stopwatch.GetElapsedTime(startedAt, stoppedAt.IsCompleted ? await stoppedAt : Stopwatch.GetTimestamp());
    stats = engine.GetStatistics(TaskName);
    if (!engine.Completion.IsCompletedSuccessfully)
    {
        Console.Error.WriteLine($"The engine failed: {engine.Completion.Exception?.InnerException?.Message}");
    }
} // disposing the host flushes the console logger: the summary comes after every log line

var ok = stats.Finished == settings.Items
    && stats.Failed == 0
    && stats.Abandoned == 0
    && quotes.Count == stats.Completed
    && orders.Acknowledged == settings.Items;

Console.WriteLine(Summary.Format(settings, stats, elapsed, quotes.Count));
if (!ok)
{
    Console.Error.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"incomplete: {orders.Acknowledged:N0} of {settings.Items:N0} orders acknowledged, {stats.Failed:N0} failed, {stats.Abandoned:N0} abandoned."));
}

return ok ? 0 : 1;
