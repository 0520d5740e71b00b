using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Scheduling;

/// <summary>
/// A write to a sink that declares it never blocks runs on the thread-pool thread that completed the run's previous
/// await instead of hopping to a worker (<c>InlineSteps</c>). These tests show that the run's guarantees still hold
/// there (its context, the in-flight limit, key order) and that everything that may block still runs on a worker: a
/// sync step after an await, a sink that declares nothing, a write with a condition, and a continuation that completes
/// inside another run's inline write.
/// </summary>
public class InlineStepsTests
{
    private const string Category = "inline-steps";
    private const string WorkerPrefix = "meshinery-worker-";

    [Fact]
    public async Task WriteAfterAwait_NonBlockingSink_RunsOnAThreadPoolThreadInTheRunsOwnContext()
    {
        const int count = 200;
        var input = new ScriptedInput<int>("orders", partition: 3);
        input.Add(Enumerable.Range(0, count));
        var runIds = new ConcurrentDictionary<int, long>();
        var sink = new ProbeOutput(nonBlocking: true);
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("inline-write", (services, task) =>
            {
                sink.Logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
                task.ReadFrom(input)
                    .WithData("tenant", "acme")
                    .Process((i, ct) =>
                    {
                        runIds[i] = TaskRunContext.Current!.RunId;
                        return PendingUntilAwaited.Of(i);
                    })
                    .WriteTo(sink);
            }),
            options => options.WorkerThreads = 4);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        var writes = sink.Writes.ToDictionary(w => w.Item);
        writes.Should().HaveCount(count);
        foreach (var (item, write) in writes)
        {
            write.IsThreadPoolThread.Should().BeTrue("the write of item {0} ran where the async step's await completed, not on '{1}'", item, write.ThreadName);
            write.Position.Should().Be(new SourcePosition("orders", 3, item), "the write of item {0} sees its own run", item);
            write.RunId.Should().Be(runIds[item], "the write and the step of item {0} belong to one run", item);
            write.TaskName.Should().Be("inline-write");
            write.Tenant.Should().Be("acme");
        }

        var records = harness.Logs.GetSnapshot().Where(r => r.Category == Category).ToList();
        records.Should().HaveCount(count);
        foreach (var record in records)
        {
            var item = int.Parse(record.GetStructuredStateValue("Item")!, System.Globalization.CultureInfo.InvariantCulture);
            var scope = record.Scopes.OfType<IReadOnlyList<KeyValuePair<string, object?>>>().Should().ContainSingle().Subject;
            scope.ToDictionary(e => e.Key, e => e.Value)["RunId"].Should().Be(runIds[item], "the inline write's log of item {0} carries its run's scope", item);
        }
    }

    [Fact]
    public async Task InjectAsync_WriteAfterAwaitRunsInline_SeesTheCallersAsyncLocal()
    {
        var marker = new AsyncLocal<string?>();
        var sink = new ProbeOutput(nonBlocking: true) { Marker = marker };
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("inline-inject", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process((i, ct) => PendingUntilAwaited.Of(i))
            .WriteTo(sink)));
        await harness.StartAsync();

        marker.Value = "caller";
        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => harness.Engine.InjectAsync("inline-inject", i).AsTask()))
            .Within("the injected runs");

        results.Should().OnlyContain(r => r.Outcome == RunOutcome.Completed);
        sink.Writes.Should().HaveCount(20).And.OnlyContain(
            w => w.IsThreadPoolThread && w.Marker == "caller" && w.TaskName == "inline-inject",
            "the caller's AsyncLocal flows into the run, and so into its inline write");
    }

    [Fact]
    public async Task SyncStepAfterAwait_RunsOnAWorkerNeverInline()
    {
        const int count = 100;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var syncThreads = new ConcurrentQueue<string?>();
        var sink = new ProbeOutput(nonBlocking: true);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("sync-after-async", task => task
            .ReadFrom(input)
            .Process(async (i, ct) =>
            {
                await Task.Delay(1, ct);
                return i;
            })
            .Process(i =>
            {
                syncThreads.Enqueue(Thread.CurrentThread.Name);
                return i;
            })
            .WriteTo(sink)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        syncThreads.Should().HaveCount(count).And.OnlyContain(name => name != null && name.StartsWith(WorkerPrefix, StringComparison.Ordinal));
        sink.Writes.Should().HaveCount(count).And.OnlyContain(
            w => w.ThreadName != null && w.ThreadName.StartsWith(WorkerPrefix, StringComparison.Ordinal),
            "a write after a sync step runs on that step's worker, right after it");
    }

    [Fact]
    public async Task WriteAfterAwait_SinkThatDoesNotDeclareNonBlocking_RunsOnAWorker()
    {
        const int count = 100;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var sink = new ProbeOutput(nonBlocking: false);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("blocking-sink", task => task
            .ReadFrom(input)
            .Process(async (i, ct) =>
            {
                await Task.Delay(1, ct);
                return i;
            })
            .WriteTo(sink)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        sink.Writes.Should().HaveCount(count).And.OnlyContain(
            w => !w.IsThreadPoolThread && w.ThreadName != null && w.ThreadName.StartsWith(WorkerPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WriteAfterAwait_WithACondition_ConditionAndWriteRunOnAWorker()
    {
        const int count = 100;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var conditionThreads = new ConcurrentQueue<string?>();
        var sink = new ProbeOutput(nonBlocking: true);
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("conditional-write", task => task
            .ReadFrom(input)
            .Process(async (i, ct) =>
            {
                await Task.Delay(1, ct);
                return i;
            })
            .WriteTo(sink, when: i =>
            {
                conditionThreads.Enqueue(Thread.CurrentThread.Name); // user code: it may block
                return i % 2 == 0;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        conditionThreads.Should().HaveCount(count).And.OnlyContain(name => name != null && name.StartsWith(WorkerPrefix, StringComparison.Ordinal));
        sink.Writes.Should().HaveCount(count / 2).And.OnlyContain(w => w.ThreadName != null && w.ThreadName.StartsWith(WorkerPrefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task InlineWrites_InFlightLimit_HoldsExactlyWhileWritesArePending()
    {
        const int limit = 8;
        const int count = 300;
        var input = new ScriptedInput<int>("orders", partition: 0) { Bound = limit };
        input.Add(Enumerable.Range(0, count));
        var inRun = new Arrivals(); // from the first step to the end of the write
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sink = new ProbeOutput(nonBlocking: true)
        {
            Complete = async i =>
            {
                if (i < limit)
                {
                    await gate.Task; // the first runs hold their slots inside a pending inline write
                }
                else
                {
                    await Task.Yield();
                }

                inRun.Leave();
            },
        };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("inline-limit", task => task
                .ReadFrom(input)
                .WithMaxInFlight(limit)
                .Process((i, ct) =>
                {
                    inRun.Enter();
                    return PendingUntilAwaited.Of(i);
                })
                .WriteTo(sink)),
            options =>
            {
                options.WorkerThreads = 32; // more workers than slots: only the in-flight limit bounds concurrency
                options.IdlePollInterval = TimeSpan.FromMilliseconds(1);
            });

        await harness.StartAsync();
        await sink.Started.WaitForAsync(limit);
        harness.Engine.GetStatistics("inline-limit").InFlight.Should().Be(limit);
        inRun.Present.Should().Be(limit, "no run beyond the limit started while the first ones' writes are pending");
        input.HandedOut.Should().Be(limit, "nothing beyond the free slots is read");
        gate.SetResult();
        await input.WaitForAcknowledgementsAsync(count);
        await harness.StopAsync();

        inRun.MaxPresent.Should().Be(limit);
        input.MaxOutstanding.Should().Be(limit);
        input.Violations.Should().BeEmpty();
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        sink.Writes.Should().HaveCount(count).And.OnlyContain(w => w.IsThreadPoolThread);
    }

    [Fact]
    public async Task InlineWrites_OrderByKey_SameKeyNeverOverlapsAndStartsInReadOrder()
    {
        const int Keys = 6;
        const int PerKey = 30;
        var input = new ScriptedInput<(string Key, int Seq)>();
        for (var i = 0; i < Keys * PerKey; i++)
        {
            input.Add(($"k{i % Keys}", i / Keys));
        }

        var present = new ConcurrentDictionary<string, Arrivals>();
        var started = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        var writeThreads = new ConcurrentQueue<bool>();
        var sink = new DelegateOutput<(string Key, int Seq)>(async item =>
        {
            writeThreads.Enqueue(Thread.CurrentThread.IsThreadPoolThread);
            await Task.Delay(1);
            present[item.Key].Leave(); // before the write completes: the key's next run must not have started
        });
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<(string Key, int Seq)>("by-key-inline", task => task
                .ReadFrom(input)
                .WithMaxInFlight(64)
                .OrderByKey(item => item.Key)
                .Process((item, ct) =>
                {
                    present.GetOrAdd(item.Key, _ => new Arrivals()).Enter();
                    started.GetOrAdd(item.Key, _ => new ConcurrentQueue<int>()).Enqueue(item.Seq);
                    return PendingUntilAwaited.Of(item);
                })
                .WriteTo(sink)),
            options: o => o.WorkerThreads = 16);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(Keys * PerKey);

        started.Should().HaveCount(Keys);
        started.Values.Should().AllSatisfy(seqs => seqs.Should().Equal(Enumerable.Range(0, PerKey)));
        present.Values.Should().AllSatisfy(a => a.MaxPresent.Should().Be(1));
        input.Outcomes.Values.Should().AllBeEquivalentTo(RunOutcome.Completed);
        writeThreads.Should().HaveCount(Keys * PerKey).And.OnlyContain(onThreadPool => onThreadPool, "the writes ran inline");
    }

    [Fact]
    public async Task InlineWrite_CompletesAnotherRunsAwait_ThatRunsWriteIsNotNestedInsideIt()
    {
        using var insideWrite = new ThreadLocal<bool>();
        var release = new ManualAwaitable(); // resumes its awaiter synchronously, on the thread that releases it
        var secondResumedInsideFirstWrite = false;
        var nestedWrites = new ConcurrentQueue<int>();
        var writeThreads = new ConcurrentDictionary<int, string?>();
        var input = new ScriptedInput<int>();
        input.Add(0, 1);
        var sink = new DelegateOutput<int>(async i =>
        {
            if (insideWrite.Value)
            {
                nestedWrites.Enqueue(i);
            }

            writeThreads[i] = Thread.CurrentThread.IsThreadPoolThread ? "thread pool" : Thread.CurrentThread.Name;
            if (i == 0)
            {
                insideWrite.Value = true;
                release.Resume(); // the second run's step resumes and completes here, inside this inline write
                insideWrite.Value = false;
            }

            await Task.Yield();
        });
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("nested", task => task
                .ReadFrom(input)
                .Process((i, ct) => i == 1
                    ? SecondAsync(i)
                    : PendingUntilAwaited.Of(i, after: release.Awaited.Task)) // the second run waits for the release
                .WriteTo(sink)),
            options => options.WorkerThreads = 4);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(2);

        async ValueTask<int> SecondAsync(int i)
        {
            await release;
            secondResumedInsideFirstWrite = insideWrite.Value;
            return i;
        }

        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        secondResumedInsideFirstWrite.Should().BeTrue("the second run's step resumed inside the first run's write (the case under test)");
        writeThreads[0].Should().Be("thread pool", "the first run's write ran inline");
        nestedWrites.Should().BeEmpty("a write never runs inline inside another run's inline step");
    }

    /// <summary>What a write saw.</summary>
    private sealed record WriteObservation(
        int Item, string? ThreadName, bool IsThreadPoolThread, long? RunId, SourcePosition? Position, string? TaskName, object? Tenant, string? Marker);

    /// <summary>Records where and in which context each write ran; completes writes asynchronously, as a broker does.</summary>
    private sealed class ProbeOutput(bool nonBlocking) : OutputSink<int>("probe")
    {
        public ConcurrentQueue<WriteObservation> Writes { get; } = new();

        public Arrivals Started { get; } = new();

        public ILogger? Logger { get; set; }

        public AsyncLocal<string?>? Marker { get; set; }

        /// <summary>How a write completes once it is recorded. Default: after a yield (a pending write).</summary>
        public Func<int, Task> Complete { get; init; } = static async _ => await Task.Yield();

        public override bool IsNonBlocking => nonBlocking;

        public override ValueTask WriteAsync(int item, CancellationToken cancellationToken)
        {
            var context = TaskRunContext.Current;
            var data = TaskData.Current;
            var thread = Thread.CurrentThread;
            Writes.Enqueue(new WriteObservation(
                item,
                thread.Name,
                thread.IsThreadPoolThread,
                context?.RunId,
                context?.Position,
                data?.TaskName,
                data is not null && data.TryGetValue("tenant", out var tenant) ? tenant : null,
                Marker?.Value));
            if (Logger is { } logger)
            {
                TestLog.StepSaw(logger, "write", item);
            }

            Started.Arrive();
            return new ValueTask(Complete(item));
        }
    }

    /// <summary>A sink that declares non-blocking writes and does what the test says.</summary>
    private sealed class DelegateOutput<T>(Func<T, Task> write) : OutputSink<T>("delegate")
    {
        public override bool IsNonBlocking => true;

        public override ValueTask WriteAsync(T item, CancellationToken cancellationToken) => new(write(item));
    }

    /// <summary>
    /// A step's result that is still pending when the engine looks at it and completes on a thread-pool thread as soon
    /// as something awaits it (and <c>after</c> has completed). An <c>await Task.Yield()</c> in the step is not enough:
    /// its continuation may finish the step before the engine looks, and then the next step runs on the worker at once.
    /// </summary>
    private sealed class PendingUntilAwaited<T> : IValueTaskSource<T>
    {
        private readonly T _value;
        private readonly Task _after;
        private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };

        private PendingUntilAwaited(T value, Task after)
        {
            _value = value;
            _after = after;
        }

        public static ValueTask<T> Of(T value, Task after)
        {
            var source = new PendingUntilAwaited<T>(value, after);
            return new ValueTask<T>(source, source._core.Version);
        }

        public T GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        {
            _core.OnCompleted(continuation, state, token, flags);
            _after.ContinueWith(_ => _core.SetResult(_value), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    private static class PendingUntilAwaited
    {
        public static ValueTask<T> Of<T>(T value, Task? after = null) => PendingUntilAwaited<T>.Of(value, after ?? Task.CompletedTask);
    }

    /// <summary>An awaitable the test resumes by hand, synchronously on the calling thread.</summary>
    private sealed class ManualAwaitable : INotifyCompletion
    {
        private Action? _continuation;

        /// <summary>Completes when something awaits this (its continuation is registered).</summary>
        public TaskCompletionSource Awaited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsCompleted { get; private set; }

        public ManualAwaitable GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation)
        {
            _continuation = continuation;
            Awaited.SetResult();
        }

        public void Resume()
        {
            IsCompleted = true;
            _continuation!();
        }
    }
}
