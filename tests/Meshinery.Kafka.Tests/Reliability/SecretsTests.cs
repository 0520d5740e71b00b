using Meshinery.Kafka.Tests.Support;
using Meshinery.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Kafka.Tests.Reliability;

/// <summary>
/// Secrets in the Kafka configuration (SASL and SSL passwords, OAuth client secrets) never appear in a log entry or
/// an exception, whether the clients run, fail to authenticate or fail to start; librdkafka's own debug logs, which
/// Meshinery forwards (event 111), included.
/// </summary>
[Collection(KafkaTests.Name)]
public class SecretsTests(KafkaFixture kafka)
{
    private static readonly string[] SecretSettings =
        ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret"];

    [Fact]
    public async Task Run_SaslAndSslSecretsInEveryClientsConfig_NoLogEntryOrErrorContainsThem()
    {
        var topic = await kafka.CreateTopicAsync("secrets-in", 1);
        var secrets = NewSecrets();
        var log = new EverythingLogged();
        await using var provider = BuildEngine(log, topic, options =>
        {
            foreach (var config in new[] { options.ConsumerConfig, options.ProducerConfig })
            {
                config["security.protocol"] = "SASL_PLAINTEXT";
                config["sasl.mechanism"] = "PLAIN";
                config["sasl.username"] = "meshinery-user";
                config["debug"] = "security,broker,conf,generic"; // as chatty as librdkafka gets about its setup
                foreach (var (setting, secret) in secrets)
                {
                    config[setting] = secret;
                }
            }
        });
        var engine = provider.GetRequiredService<MeshineryEngine>();

        Exception? failure = null;
        try
        {
            await engine.StartAsync();
            await log.LoggedAsync(111).Within("librdkafka's first log entry through ILogger");
            await Eventually.HoldsAsync(() => log.Entries.Count(e => e.Event.Id == 111) >= 20, TimeSpan.FromSeconds(10));
        }
        catch (Exception error) when (error is not TimeoutException)
        {
            failure = error;
        }
        finally
        {
            await engine.StopAsync();
        }

        log.Entries.Should().Contain(e => e.Event.Id == 111, "librdkafka's logs came through, so they were checked too");
        AssertNoSecret(secrets, log, failure, engine.Completion.Exception);
    }

    [Fact]
    public async Task StartAsync_SslKeyThatCannotBeLoaded_FailsClearlyWithoutThePassword()
    {
        var topic = await kafka.CreateTopicAsync("secrets-ssl", 1);
        var secrets = NewSecrets();
        var log = new EverythingLogged();
        await using var provider = BuildEngine(log, topic, options =>
        {
            foreach (var config in new[] { options.ConsumerConfig, options.ProducerConfig })
            {
                config["security.protocol"] = "SSL";
                config["ssl.key.location"] = "/nonexistent/meshinery-client.key";
                config["ssl.certificate.location"] = "/nonexistent/meshinery-client.pem";
                config["ssl.key.password"] = secrets["ssl.key.password"];
                config["ssl.keystore.password"] = secrets["ssl.keystore.password"];
            }
        });
        var engine = provider.GetRequiredService<MeshineryEngine>();

        // Creating a client loads its key: the failure comes from StartAsync, or, if the client is created on the
        // consume thread, as the engine's fatal error.
        Exception? failure = null;
        try
        {
            await engine.StartAsync();
            await engine.Completion.Within("the engine to stop on the client that cannot start");
        }
        catch (Exception error) when (error is not TimeoutException)
        {
            failure = error;
        }
        finally
        {
            await engine.StopAsync();
        }

        var reported = failure ?? engine.Completion.Exception;
        reported.Should().NotBeNull("a client whose key cannot be loaded cannot start");
        reported!.ToString().Should().ContainEquivalentOf("ssl", "the error says what failed");
        AssertNoSecret(secrets, log, failure, engine.Completion.Exception);
    }

    [Fact]
    public async Task StartAsync_InvalidSettingNextToSecrets_ErrorNamesTheSettingWithoutTheSecrets()
    {
        var topic = await kafka.CreateTopicAsync("secrets-invalid", 1);
        var secrets = NewSecrets();
        var log = new EverythingLogged();
        await using var provider = BuildEngine(log, topic, options =>
        {
            foreach (var (setting, secret) in secrets)
            {
                options.ConsumerConfig[setting] = secret;
                options.ProducerConfig[setting] = secret;
            }

            options.ConsumerConfig["no.such.setting"] = "1";
        });
        var engine = provider.GetRequiredService<MeshineryEngine>();

        var start = () => engine.StartAsync();

        var failure = (await start.Should().ThrowAsync<Exception>()).Which;
        failure.ToString().Should().Contain("no.such.setting");
        AssertNoSecret(secrets, log, failure, engine.Completion.Exception);
    }

    private static Dictionary<string, string> NewSecrets() =>
        SecretSettings.ToDictionary(s => s, s => $"{s.Replace('.', '-')}-{Guid.NewGuid():N}");

    private ServiceProvider BuildEngine(EverythingLogged log, string topic, Action<KafkaOptions> configure)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(log));
        services.AddMeshinery(mesh => mesh
            .Configure(options => options.DrainTimeout = TimeSpan.FromSeconds(2))
            .UseKafka(options =>
            {
                options.BootstrapServers = kafka.BootstrapServers;
                options.GroupId = KafkaFixture.UniqueName("secrets-group");
                configure(options);
            })
            .AddTask<Order>("secrets", task => task
                .ReadFrom(new KafkaInput<Order>(topic))
                .DeadLetterTo(new KafkaDeadLetterOutput(topic + "-dlq"))
                .WriteTo(new KafkaOutput<Order>(topic + "-out"))));
        return services.BuildServiceProvider();
    }

    private static void AssertNoSecret(Dictionary<string, string> secrets, EverythingLogged log, params Exception?[] errors)
    {
        foreach (var (setting, secret) in secrets)
        {
            log.Entries.Should().NotContain(e => e.Text.Contains(secret, StringComparison.Ordinal), "the value of {0} must never be logged", setting);
            foreach (var error in errors.Where(e => e is not null))
            {
                error!.ToString().Should().NotContain(secret, "the value of {0} must never be in an exception", setting);
            }
        }
    }
}
