using System.Collections.Concurrent;

namespace Meshinery.Tests.Tasks;

/// <summary>The ambient context of a run, which is also the state of the run's logging scope.</summary>
public class TaskRunContextTests
{
    [Fact]
    public async Task ScopeEntries_AreTaskRunSourcePartitionOffsetThenLogProperties()
    {
        var run = await CaptureAsync(new SourcePosition("orders", 3, 1207), c => c.SetLogProperty("OrderId", 42));
        var context = run.LogScope;

        context.Count.Should().Be(6);
        context[0].Should().Be(new KeyValuePair<string, object?>("TaskName", "scope"));
        context[1].Should().Be(new KeyValuePair<string, object?>("RunId", run.RunId));
        context[2].Should().Be(new KeyValuePair<string, object?>("Source", "orders"));
        context[3].Should().Be(new KeyValuePair<string, object?>("Partition", 3));
        context[4].Should().Be(new KeyValuePair<string, object?>("Offset", 1207L));
        context[5].Should().Be(new KeyValuePair<string, object?>("OrderId", 42));
        context.Should().Equal(Enumerable.Range(0, 6).Select(i => context[i]), "enumeration matches the indexer");
        var outOfRange = () => context[6];
        outOfRange.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Properties_DescribeTheRun()
    {
        var context = await CaptureAsync(new SourcePosition("orders", 3, 1207));

        context.TaskName.Should().Be("scope");
        context.TaskData.TaskName.Should().Be("scope");
        context.Position.Should().Be(new SourcePosition("orders", 3, 1207));
        context.RunId.Should().BePositive();
        context.Attempt.Should().Be(1);
        context.CancellationToken.IsCancellationRequested.Should().BeFalse();
    }

    [Fact]
    public async Task SetLogProperty_SameKeyTwice_ReplacesTheValue()
    {
        var context = await CaptureAsync(new SourcePosition("s", 0, 0), c =>
        {
            c.SetLogProperty("Customer", "a");
            c.SetLogProperty("Stage", 1);
            c.SetLogProperty("Customer", "b");
        });

        context.LogScope.Count.Should().Be(7);
        context.LogScope.Skip(5).Should().Equal(
            new KeyValuePair<string, object?>("Stage", 1),
            new KeyValuePair<string, object?>("Customer", "b"));
    }

    [Fact]
    public async Task SetLogProperty_EmptyKey_Throws()
    {
        var context = await CaptureAsync(new SourcePosition("s", 0, 0));

        var set = () => context.SetLogProperty("", 1);

        set.Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task SetLogProperty_FromConcurrentForkBranches_KeepsEveryProperty()
    {
        var input = new ScriptedInput<int>();
        input.Add(1);
        TaskRunContext? context = null;
        var branches = Enumerable.Range(0, 8).Select<int, Func<int, CancellationToken, ValueTask<int>>>(b => (i, ct) =>
        {
            for (var k = 0; k < 50; k++)
            {
                TaskRunContext.Current!.SetLogProperty($"branch-{b}-{k}", k);
            }

            return ValueTask.FromResult(b);
        });
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("fork-properties", task => task
                .ReadFrom(input)
                .ForkJoin(branches, (i, results) =>
                {
                    context = TaskRunContext.Current;
                    return i;
                })),
            options => options.WorkerThreads = 8);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(1);

        context.Should().NotBeNull();
        context!.LogScope.Count.Should().Be(5 + (8 * 50), "concurrent additions are not lost");
    }

    [Fact]
    public async Task ToString_FormatsTaskRunPositionAndProperties()
    {
        var context = await CaptureAsync(new SourcePosition("orders", 3, 1207), c => c.SetLogProperty("OrderId", 42));

        context.ToString().Should().Be($"task=scope run={context.RunId} orders[3]@1207 OrderId=42");
    }

    [Fact]
    public async Task RunId_IsUniquePerRun()
    {
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 100));
        var ids = new ConcurrentBag<long>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("ids", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                ids.Add(TaskRunContext.Current!.RunId);
                return i;
            })));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(100);

        ids.Should().HaveCount(100).And.OnlyHaveUniqueItems();
    }

    [Fact]
    public void Current_OutsideAStep_IsNull()
    {
        TaskRunContext.Current.Should().BeNull();
    }

    [Fact]
    public void SourcePosition_ToString_IsSourcePartitionAtOffset()
    {
        new SourcePosition("orders", 3, 1207).ToString().Should().Be("orders[3]@1207");
        SourcePosition.Injected.Should().Be(new SourcePosition("injected", 0, -1));
    }

    private static async Task<TaskRunContext> CaptureAsync(SourcePosition position, Action<TaskRunContext>? inStep = null)
    {
        var input = new PositionedInput(position);
        TaskRunContext? captured = null;
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("scope", task => task
            .ReadFrom(input)
            .Process(i =>
            {
                captured = TaskRunContext.Current;
                inStep?.Invoke(captured!);
                return i;
            })));
        await harness.StartAsync();
        await input.Acknowledged.Task.Within("the run to end");
        return captured ?? throw new InvalidOperationException("the step saw no run context");
    }

    /// <summary>Hands out one item at a given position.</summary>
    private sealed class PositionedInput(SourcePosition position) : InputSource<int>(position.Source), IAcknowledger
    {
        private int _handedOut;

        public TaskCompletionSource Acknowledged { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override int Poll(Span<SourceItem<int>> buffer)
        {
            if (Interlocked.Exchange(ref _handedOut, 1) == 1)
            {
                return 0;
            }

            buffer[0] = new SourceItem<int>(1, position, this);
            return 1;
        }

        public void Acknowledge(SourcePosition position, RunOutcome outcome) => Acknowledged.TrySetResult();
    }
}
