using System.Text;
using System.Text.Json;
using Meshinery.Kafka.GroupCollector.Tests.Support;

namespace Meshinery.Kafka.GroupCollector.Tests.Process;

/// <summary>The sample as a separate process, killed with SIGKILL mid-group and started again.</summary>
[Collection(CollectorKafkaTests.Name)]
public class KillRestartTests(CollectorKafka kafka)
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Collector_KilledBetweenACreateAndItsLastDone_ResolvesTheGroupOnceAfterRestart()
    {
        var options = await kafka.CreateCollectorAsync(o => o.GroupId = "eventbus-collector"); // the sample's consumer group
        string[] arguments = ["--bootstrap-servers", kafka.BootstrapServers, "--topic", options.Topic];

        await using (var first = CollectorProcess.Start(arguments))
        {
            await first.WaitForLinesAsync(IsRestoreLine, CollectorKafka.Partitions, "the first instance to own every partition", s_deadline);
            await kafka.PostAsync(options.Topic, [Seed.Create, Seed.DoneA, Seed.DoneB]);
            await WaitForChangelogAsync(options, state => state.Contains(Seed.EntityA, StringComparison.Ordinal) && state.Contains(Seed.EntityB, StringComparison.Ordinal));

            // Its input offsets committed too: the restarted instance cannot replay the events, only restore the state.
            await EventuallyAsync(() => kafka.CommittedToEnd($"{options.GroupId}.collect", options.InternalTopicName), "the internal topic's offsets to be committed");

            first.Kill(); // SIGKILL: nothing committed or flushed on the way out
            await first.WaitForExitAsync(s_deadline);
        }

        await using var second = CollectorProcess.Start(arguments);
        await second.WaitForLinesAsync(IsRestoreLine, CollectorKafka.Partitions, "the restarted instance to own every partition", s_deadline);
        second.StandardError.Should().Contain(line => line.Contains("1 open", StringComparison.Ordinal), "the open group is restored from the changelog");
        await kafka.PostAsync(options.Topic, [Seed.DoneA, Seed.DoneC]); // a repeated done and the last one
        using (var results = new ResultReader(kafka.BootstrapServers, options.OutputTopicName))
        {
            await results.WaitForAsync(1, s_deadline);
        }

        (await second.TerminateAsync(s_deadline)).Should().Be(0, second.Transcript);
        var written = kafka.ReadAll(options.OutputTopicName)
            .Select(r => JsonDocument.Parse(r.Message.Value!).RootElement)
            .Where(e => e.GetProperty("type").GetString() is "EventGroupCollectorSuccess" or "EventGroupCollectorFailure")
            .ToList();
        var success = written.Should().ContainSingle("one result, across the kill and the restart").Subject;
        success.GetProperty("type").GetString().Should().Be("EventGroupCollectorSuccess");
        success.GetProperty("results").EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo([Seed.EntityA, Seed.EntityB, Seed.EntityC]);
    }

    private static bool IsRestoreLine(string line) => line.Contains("restored partition", StringComparison.Ordinal);

    private static async Task EventuallyAsync(Func<bool> condition, string what)
    {
        var until = Environment.TickCount64 + (long)s_deadline.TotalMilliseconds;
        while (!await Task.Run(condition))
        {
            if (Environment.TickCount64 > until)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }
        }
    }

    private async Task WaitForChangelogAsync(GroupCollectorOptions options, Func<string, bool> holds)
    {
        var until = Environment.TickCount64 + (long)s_deadline.TotalMilliseconds;
        while (true)
        {
            var last = await Task.Run(() => kafka.ReadAll(options.ChangelogTopicName)
                .Where(r => r.Message.Key is { } key && Encoding.UTF8.GetString(key) == Seed.GroupId && r.Message.Value is not null)
                .Select(r => Encoding.UTF8.GetString(r.Message.Value!))
                .LastOrDefault());
            if (last is not null && holds(last))
            {
                return;
            }

            if (Environment.TickCount64 > until)
            {
                throw new TimeoutException($"The changelog did not reach the expected state; last record: {last}");
            }
        }
    }
}
