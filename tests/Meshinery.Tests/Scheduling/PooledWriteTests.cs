using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace Meshinery.Tests.Scheduling;

/// <summary>
/// A write whose <see cref="ValueTask"/> is backed by a pooled <see cref="IValueTaskSource"/> (as a Kafka produce's is)
/// is awaited as it is: its result is taken exactly once, before the source is reused; a failure takes the run's error
/// path with the write's exception; the step after the write sees its own run's context.
/// </summary>
public class PooledWriteTests
{
    [Fact]
    public async Task Write_PooledSource_EveryRunCompletesAndEachResultIsTakenOnceBeforeReuse()
    {
        const int count = 500;
        var input = new ScriptedInput<int>("orders", partition: 2);
        input.Add(Enumerable.Range(0, count));
        var sink = new PooledOutput();
        var afterWrite = new ConcurrentDictionary<int, SourcePosition?>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("pooled-write", task => task
                .ReadFrom(input)
                .WithMaxInFlight(32)
                .WriteTo(sink)
                .Process(i =>
                {
                    afterWrite[i] = TaskRunContext.Current?.Position;
                    return i;
                })),
            options => options.WorkerThreads = 4);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);

        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
        sink.Misuses.Should().BeEmpty("every result is taken once, with the token of its own write");
        sink.ResultsTaken.Should().Be(count);
        sink.SourcesCreated.Should().BeLessThanOrEqualTo(32, "a source goes back to the pool once its result is taken");
        afterWrite.Should().HaveCount(count);
        foreach (var (item, position) in afterWrite)
        {
            position.Should().Be(new SourcePosition("orders", 2, item), "the step after the write of item {0} runs in its own run's context", item);
        }
    }

    [Fact]
    public async Task Write_PooledSourceFails_RunTakesTheErrorPathWithTheWritesException()
    {
        var sink = new PooledOutput { FailItem = 7 };
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("pooled-fail", task => task
            .ReadFrom(new ScriptedInput<int>())
            .WriteTo(sink)));
        await harness.StartAsync();

        var failed = await harness.Engine.InjectAsync("pooled-fail", 7).AsTask().Within("the failed write's run to end");
        var completed = await harness.Engine.InjectAsync("pooled-fail", 8).AsTask().Within("the next write's run to end");

        failed.Outcome.Should().Be(RunOutcome.Failed);
        failed.Failure!.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("the broker refused item 7");
        failed.Failure.StepName.Should().Be("write-pooled");
        completed.Outcome.Should().Be(RunOutcome.Completed, "the source that failed was reused for the next write");
        sink.Misuses.Should().BeEmpty();
        sink.SourcesCreated.Should().Be(1);
    }

    /// <summary>
    /// A sink whose writes are pending until awaited and then complete on a thread-pool thread through pooled sources that are reset (and reused)
    /// when their result is taken: a second read, or a read with an old token, is recorded as a misuse.
    /// </summary>
    private sealed class PooledOutput() : OutputSink<int>("pooled")
    {
        private readonly ConcurrentQueue<Source> _pool = new();
        private int _created;
        private int _taken;

        public int? FailItem { get; init; }

        public ConcurrentQueue<string> Misuses { get; } = new();

        public int SourcesCreated => Volatile.Read(ref _created);

        public int ResultsTaken => Volatile.Read(ref _taken);

        public override ValueTask WriteAsync(int item, CancellationToken cancellationToken)
        {
            if (!_pool.TryDequeue(out var source))
            {
                Interlocked.Increment(ref _created);
                source = new Source(this);
            }

            return source.Start(item == FailItem ? new InvalidOperationException($"the broker refused item {item}") : null);
        }

        private sealed class Source(PooledOutput owner) : IValueTaskSource
        {
            private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
            private Exception? _error;

            /// <summary>A write that is still pending when the engine looks; it completes once awaited, on the thread pool.</summary>
            public ValueTask Start(Exception? error)
            {
                _error = error;
                return new(this, _core.Version);
            }

            private void Complete()
            {
                if (_error is not { } error)
                {
                    _core.SetResult(true);
                }
                else
                {
                    _core.SetException(error);
                }
            }

            public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

            public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            {
                _core.OnCompleted(continuation, state, token, flags);
                ThreadPool.UnsafeQueueUserWorkItem(static source => source.Complete(), this, preferLocal: false);
            }

            public void GetResult(short token)
            {
                if (token != _core.Version)
                {
                    owner.Misuses.Enqueue($"result read with token {token}, the source is at {_core.Version}");
                }

                try
                {
                    _core.GetResult(token);
                }
                finally
                {
                    Interlocked.Increment(ref owner._taken);
                    _core.Reset();
                    owner._pool.Enqueue(this);
                }
            }
        }
    }
}
