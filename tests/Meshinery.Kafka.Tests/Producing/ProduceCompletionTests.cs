using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Meshinery.Kafka.Tests.Producing;

/// <summary>
/// The pooled completion of a produce, driven by hand: Confluent calls its delivery handler with a report (a plain data
/// object), the engine takes the result once; the completion must go back to its pool only after both, so a report that
/// arrives after a cancellation never completes a later produce.
/// </summary>
public class ProduceCompletionTests
{
    private readonly ConcurrentQueue<ProduceCompletion> _pool = new();
    private readonly List<(string Topic, string? Error)> _recorded = [];

    [Fact]
    public async Task Delivered_ResultTaken_CompletesOnceAndReturnsToThePool()
    {
        var completion = NewCompletion();
        completion.Start("out", startedAt: 1, CancellationToken.None);
        var write = completion.Write;
        write.IsCompleted.Should().BeFalse("nothing is delivered yet");

        completion.OnDelivered(Report(ErrorCode.NoError));
        await write;

        _recorded.Should().Equal(("out", (string?)null));
        _pool.Should().ContainSingle().Which.Should().BeSameAs(completion);
    }

    [Fact]
    public async Task DeliveryFailed_ThrowsProduceExceptionWithTheBrokersErrorAndRecordsIt()
    {
        var completion = NewCompletion();
        completion.Start("out", startedAt: 1, CancellationToken.None);
        var write = completion.Write;

        completion.OnDelivered(Report(ErrorCode.MsgSizeTooLarge));
        var thrown = await FluentActions.Awaiting(async () => await write).Should().ThrowAsync<ProduceException<byte[]?, byte[]?>>();

        thrown.Which.Error.Code.Should().Be(ErrorCode.MsgSizeTooLarge);
        KafkaProducerClient.IsTransient(thrown.Which).Should().BeFalse("the run takes its error path, not a retry");
        _recorded.Should().Equal(("out", (string?)nameof(ErrorCode.MsgSizeTooLarge)));
        _pool.Should().ContainSingle();
    }

    [Fact]
    public async Task CancelledBeforeDelivery_ThrowsAndTheLateReportNeverCompletesTheNextProduce()
    {
        using var stopping = new CancellationTokenSource();
        var completion = NewCompletion();
        completion.Start("out", startedAt: 1, stopping.Token);
        var cancelled = completion.Write;

        await stopping.CancelAsync();
        await FluentActions.Awaiting(async () => await cancelled).Should().ThrowAsync<OperationCanceledException>();
        _pool.Should().BeEmpty("Confluent still holds the handler until the message's report arrives");
        _recorded.Should().BeEmpty("a cancelled wait is no produce outcome");

        completion.OnDelivered(Report(ErrorCode.NoError)); // the late report
        _pool.Should().ContainSingle().Which.Should().BeSameAs(completion);
        _recorded.Should().BeEmpty();

        _pool.TryDequeue(out var reused).Should().BeTrue();
        reused!.Start("out", startedAt: 2, CancellationToken.None);
        var next = reused.Write;
        next.IsCompleted.Should().BeFalse("the earlier produce's report was consumed by the earlier produce");

        reused.OnDelivered(Report(ErrorCode.NoError));
        await next;
        _recorded.Should().Equal(("out", (string?)null));
    }

    [Fact]
    public void Abandoned_GoesBackToThePoolAndItsOldTokenNoLongerReachesIt()
    {
        using var first = new CancellationTokenSource();
        var completion = NewCompletion();
        completion.Start("out", startedAt: 1, first.Token);

        completion.Abandon(); // Confluent refused the message at once: no report will come, no task was handed out
        _pool.Should().ContainSingle();

        completion.Start("out", startedAt: 2, CancellationToken.None);
        first.Cancel();
        completion.Write.IsCompleted.Should().BeFalse("the abandoned produce's cancellation was unregistered");
    }

    [Fact]
    public void TokenCancelledAlready_CompletesAsCancelledAtOnce()
    {
        var completion = NewCompletion();
        completion.Start("out", startedAt: 1, new CancellationToken(canceled: true));

        var write = completion.Write;
        write.IsCanceled.Should().BeTrue();
    }

    private ProduceCompletion NewCompletion() =>
        new(_pool, (_, topic, error) =>
        {
            lock (_recorded)
            {
                _recorded.Add((topic, error));
            }
        });

    private static DeliveryReport<byte[]?, byte[]?> Report(ErrorCode code) => new()
    {
        Error = new Error(code),
        Topic = "out",
        Partition = new Partition(0),
        Offset = new Offset(7),
        Message = new Message<byte[]?, byte[]?> { Value = [1] },
    };
}
