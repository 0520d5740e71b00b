using System.Globalization;

namespace Meshinery.Tests.Scheduling;

/// <summary>Every item reaches the outputs exactly once and every input item is acknowledged exactly once.</summary>
public class DeliveryTests
{
    [Fact]
    public async Task Engine_ThreeStepsWithRandomLatencies_EveryItemArrivesOnceAndIsAcknowledgedOnce()
    {
        const int count = 2_000;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var output = new ScriptedOutput<string> { CompleteAsynchronously = true };
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("exactly-once", task => task
                .ReadFrom(input)
                .WithMaxInFlight(300)
                .Process(i =>
                {
                    if (Random.Shared.Next(4) == 0)
                    {
                        Thread.Sleep(1); // blocking work of random length
                    }

                    return i;
                })
                .Process(async (i, ct) =>
                {
                    await Task.Delay(Random.Shared.Next(0, 3), ct);
                    return (long)i;
                })
                .Process(i => i.ToString(CultureInfo.InvariantCulture))
                .WriteTo(output)),
            options => options.WorkerThreads = 16);

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);
        await harness.StopAsync(); // after this no late (duplicate) acknowledgement can arrive

        var expected = Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var written = output.Items;
        written.Order(StringComparer.Ordinal).Should().Equal(expected.Order(StringComparer.Ordinal), "each item is written exactly once");
        written.Should().NotEqual(expected, "random latencies make runs finish out of order");
        input.Duplicates.Should().BeEmpty();
        input.Unknown.Should().BeEmpty();
        input.Acknowledged.Should().Be(count);
        input.Outcomes.Should().HaveCount(count).And.OnlyContain(o => o.Value == RunOutcome.Completed);
        harness.Engine.GetStatistics("exactly-once").Should().BeEquivalentTo(new
        {
            Started = count,
            Completed = count,
            Failed = 0,
            Dropped = 0,
            Abandoned = 0,
            InFlight = 0,
        });
    }

    [Fact]
    public async Task Engine_MixedOutcomes_EachItemAcknowledgedOnceWithItsOutcome()
    {
        const int count = 500;
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        var output = new InMemoryOutput<int>();
        var deadLetters = new InMemoryOutput<ProcessingFailure>();
        var attempts = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("mixed", task => task
            .ReadFrom(input)
            .WithRetry(2, TimeSpan.FromMilliseconds(1))
            .DeadLetterTo(deadLetters)
            .Where(i => i % 5 != 0) // dropped
            .Process(async (i, ct) =>
            {
                await Task.Yield();
                var attempt = attempts.AddOrUpdate(i, 1, (_, n) => n + 1);
                if (i % 7 == 0 && attempt == 1)
                {
                    throw new InvalidOperationException("fails once, then succeeds"); // retried
                }

                return i % 11 == 0 ? throw new InvalidOperationException("always fails") : i; // dead-lettered
            })
            .WriteTo(output)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);
        await harness.StopAsync();

        static RunOutcome Expected(int i) =>
            i % 5 == 0 ? RunOutcome.Dropped : i % 11 == 0 ? RunOutcome.Failed : RunOutcome.Completed;
        input.Duplicates.Should().BeEmpty();
        input.Outcomes.Should().HaveCount(count);
        for (var i = 0; i < count; i++)
        {
            input.OutcomeAt(i).Should().Be(Expected(i), "item {0}", i);
        }

        output.Items.Order().Should().Equal(Enumerable.Range(0, count).Where(i => Expected(i) == RunOutcome.Completed));
        deadLetters.Items.Select(f => (int)f.Item!).Order().Should().Equal(Enumerable.Range(0, count).Where(i => Expected(i) == RunOutcome.Failed));
        deadLetters.Items.Should().OnlyContain(f => f.Attempts == 2);
    }

    [Fact]
    public async Task Engine_SeveralInputs_MergesThemAndAcknowledgesEachToItsSource()
    {
        var first = new ScriptedInput<int>("first");
        var second = new ScriptedInput<int>("second", partition: 3);
        first.Add(Enumerable.Range(0, 100));
        second.Add(Enumerable.Range(1_000, 100));
        var output = new InMemoryOutput<int>();
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("merge", task => task
            .ReadFrom(first)
            .ReadFrom(second)
            .WriteTo(output)));

        await harness.StartAsync();
        await first.WaitForAcknowledgementsAsync(100);
        await second.WaitForAcknowledgementsAsync(100);
        await harness.StopAsync();

        output.Items.Order().Should().Equal(Enumerable.Range(0, 100).Concat(Enumerable.Range(1_000, 100)));
        first.Outcomes.Keys.Should().OnlyContain(p => p.Source == "first" && p.Partition == 0);
        second.Outcomes.Keys.Should().OnlyContain(p => p.Source == "second" && p.Partition == 3);
        first.Duplicates.Should().BeEmpty();
        second.Duplicates.Should().BeEmpty();
    }

    [Fact]
    public async Task WriteTo_SlowOutput_ItemAcknowledgedOnlyAfterWriteIsDurable()
    {
        var input = new ScriptedInput<int>();
        var output = new GatedOutput();
        var acknowledgedBeforeDurable = 0;
        input.OnAcknowledge = (position, _) =>
        {
            if (!output.Durable.Contains((int)position.Offset))
            {
                Interlocked.Increment(ref acknowledgedBeforeDurable);
            }
        };
        input.Add(Enumerable.Range(0, 20));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("durable", task => task
            .ReadFrom(input)
            .WriteTo(output)));

        await harness.StartAsync();
        await output.Writing.WaitForAsync(20);
        input.Acknowledged.Should().Be(0, "no write is durable yet");
        output.Release();
        await input.WaitForAcknowledgementsAsync(20);

        acknowledgedBeforeDurable.Should().Be(0);
        input.Outcomes.Values.Should().OnlyContain(o => o == RunOutcome.Completed);
    }

    [Fact]
    public async Task WriteTo_SeveralOutputs_WrittenInOrderBeforeAcknowledgement()
    {
        var input = new ScriptedInput<int>();
        var first = new InMemoryOutput<int>("first");
        var second = new ScriptedOutput<int>("second");
        var outOfOrder = 0;
        second.Fault = (item, _) =>
        {
            if (!first.Items.Contains(item))
            {
                Interlocked.Increment(ref outOfOrder);
            }

            return null;
        };
        var missingAtAcknowledgement = 0;
        input.OnAcknowledge = (position, _) =>
        {
            if (!second.Items.Contains((int)position.Offset))
            {
                Interlocked.Increment(ref missingAtAcknowledgement);
            }
        };
        input.Add(Enumerable.Range(0, 50));
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("two-outputs", task => task
            .ReadFrom(input)
            .WriteTo(first)
            .WriteTo(second)));

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(50);

        outOfOrder.Should().Be(0);
        missingAtAcknowledgement.Should().Be(0);
        first.Count.Should().Be(50);
        second.Count.Should().Be(50);
    }

    /// <summary>An output whose writes complete only when the test releases them.</summary>
    private sealed class GatedOutput() : OutputSink<int>("gated")
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Arrivals Writing { get; } = new();

        public System.Collections.Concurrent.ConcurrentDictionary<int, bool> DurableItems { get; } = new();

        public ICollection<int> Durable => DurableItems.Keys;

        public void Release() => _release.TrySetResult();

        public override async ValueTask WriteAsync(int item, CancellationToken cancellationToken)
        {
            Writing.Arrive();
            await _release.Task.WaitAsync(cancellationToken);
            DurableItems[item] = true;
        }
    }
}
