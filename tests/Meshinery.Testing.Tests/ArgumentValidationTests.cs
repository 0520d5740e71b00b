namespace Meshinery.Testing.Tests;

public sealed class ArgumentValidationTests : IDisposable
{
    private readonly EmbeddedKafkaCluster cluster = KafkaTestCluster.StartEmbedded();

    public static TheoryData<string> InvalidTopicNames => new()
    {
        string.Empty,
        "has space",
        "slash/ed",
        "colon:ed",
        "ümlaut",
        ".",
        "..",
        new string('a', 250),
    };

    public void Dispose() => cluster.Dispose();

    [Fact]
    public async Task CreateTopicAsync_NullName_ThrowsArgumentNullNamingName()
    {
        var act = async () => await cluster.CreateTopicAsync(null!, 1);

        (await act.Should().ThrowAsync<ArgumentNullException>()).WithParameterName("name");
    }

    [Theory]
    [MemberData(nameof(InvalidTopicNames))]
    public async Task CreateTopicAsync_InvalidName_ThrowsArgumentExceptionNamingName(string invalidName)
    {
        var act = async () => await cluster.CreateTopicAsync(invalidName, 1);

        (await act.Should().ThrowAsync<ArgumentException>()).WithParameterName("name");
    }

    [Fact]
    public void CreateTopicAsync_InvalidName_ThrowsBeforeReturningTask()
    {
        cluster.Invoking(c => c.CreateTopicAsync("bad name", 1)).Should().Throw<ArgumentException>();
    }

    [Theory]
    [InlineData("a")]
    [InlineData("Orders.v2_retry-1")]
    [InlineData("...")]
    public async Task CreateTopicAsync_ValidName_CreatesTopic(string name)
    {
        await cluster.CreateTopicAsync(name, 1);

        TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic(name).Should().NotBeNull();
    }

    [Fact]
    public async Task CreateTopicAsync_NameOfMaximumLength_CreatesTopic()
    {
        var name = new string('x', 249);

        await cluster.CreateTopicAsync(name, 1);

        TestKafka.GetMetadata(cluster.BootstrapServers).FindTopic(name).Should().NotBeNull();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    public async Task CreateTopicAsync_PartitionsBelowOne_ThrowsArgumentOutOfRangeNamingPartitions(int count)
    {
        var act = async () => await cluster.CreateTopicAsync("topic", count);

        (await act.Should().ThrowAsync<ArgumentOutOfRangeException>()).WithParameterName("partitions");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Connect_BlankBootstrapServers_ThrowsArgumentExceptionNamingBootstrapServers(string? blank)
    {
        var act = () => KafkaTestCluster.Connect(blank!);

        act.Should().Throw<ArgumentException>().WithParameterName("bootstrapServers");
    }

    [Fact]
    public async Task Connect_InvalidTopicName_ThrowsWithoutContactingCluster()
    {
        await using var connected = KafkaTestCluster.Connect("localhost:1");

        var act = async () => await connected.CreateTopicAsync("no spaces allowed", 1);

        (await act.Should().ThrowAsync<ArgumentException>()).WithParameterName("name");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Options_BrokersBelowOne_ThrowsNamingBrokers(int brokers)
    {
        var act = () => new EmbeddedKafkaClusterOptions { Brokers = brokers };

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(EmbeddedKafkaClusterOptions.Brokers));
    }

    [Fact]
    public void Options_DefaultPartitionsBelowOne_ThrowsNamingDefaultPartitions()
    {
        var act = () => new EmbeddedKafkaClusterOptions { DefaultPartitions = 0 };

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(EmbeddedKafkaClusterOptions.DefaultPartitions));
    }

    [Fact]
    public void Options_NegativeInitialRebalanceDelay_ThrowsNamingInitialRebalanceDelay()
    {
        var act = () => new EmbeddedKafkaClusterOptions { InitialRebalanceDelay = TimeSpan.FromMilliseconds(-1) };

        act.Should().Throw<ArgumentOutOfRangeException>()
            .WithParameterName(nameof(EmbeddedKafkaClusterOptions.InitialRebalanceDelay));
    }

    [Fact]
    public void Options_Defaults_AreOneBrokerFourPartitionsNoTopicsAndNoRebalanceDelay()
    {
        var options = new EmbeddedKafkaClusterOptions();

        options.Brokers.Should().Be(1);
        options.DefaultPartitions.Should().Be(4);
        options.Topics.Should().BeEmpty();
        options.InitialRebalanceDelay.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public void StartEmbedded_InvalidTopicInOptions_ThrowsNamingOptions()
    {
        var act = () => KafkaTestCluster.StartEmbedded(new EmbeddedKafkaClusterOptions { Topics = { "fine", "not fine" } });

        act.Should().Throw<ArgumentException>().WithParameterName("options").WithMessage("*not fine*");
    }
}
