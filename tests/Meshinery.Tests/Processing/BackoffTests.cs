namespace Meshinery.Tests.Processing;

/// <summary>The engine's backoff: exponential with a cap, and the jitter of transient output retries.</summary>
public class BackoffTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(4, 800)]
    [InlineData(40, 30_000)] // capped, even where the exponent overflows
    public void Exponential_DoublesPerRetryUpToTheCap(int retry, int expectedMilliseconds) =>
        Backoff.Exponential(TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(30), retry)
            .Should().Be(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Theory]
    [InlineData(0.0, 0.99, 1000)] // no jitter: the backoff itself
    [InlineData(0.5, 0.0, 1000)] // the random factor's low end keeps the whole wait
    [InlineData(0.5, 0.5, 750)]
    [InlineData(1.0, 0.5, 500)]
    public void Jittered_TakesTheRandomShareOfTheJitterOff(double jitter, double random, int expectedMilliseconds) =>
        Backoff.Jittered(Second, jitter, random).Should().Be(TimeSpan.FromMilliseconds(expectedMilliseconds));

    [Fact]
    public void OutputRetryDelay_DefaultJitter_SpreadsWithinHalfTheBackoffToTheBackoff()
    {
        var options = new MeshineryOptions { ErrorBackoff = Second };

        var waits = Enumerable.Range(0, 200).Select(_ => options.OutputRetryDelayAfter(1)).ToList();

        waits.Should().OnlyContain(w => w > Second / 2 && w <= Second, "the default jitter takes up to half the wait off");
        waits.Distinct().Should().HaveCountGreaterThan(100, "runs that failed together must not retry in lockstep");
    }

    [Fact]
    public void OutputRetryDelay_NoJitter_IsExactlyTheBackoff()
    {
        var options = new MeshineryOptions { ErrorBackoff = Second, ErrorBackoffJitter = 0 };

        Enumerable.Range(1, 3).Select(options.OutputRetryDelayAfter).Should().Equal(Second, 2 * Second, 4 * Second);
    }
}
