using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Meshinery.Tests.Scopes;

/// <summary>Steps that take a service from a DI scope of their run: one scope per run, disposed when the run ends.</summary>
public class RunScopeTests
{
    [Fact]
    public async Task ScopedSteps_ManyRunsInParallel_EachRunHasOneInstanceSharedByItsStepsAndEveryOneIsDisposed()
    {
        const int count = 100;
        var tracker = new Tracker();
        var seen = new ConcurrentBag<(long RunId, int Instance, string Step, string? Task)>();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, count));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("scoped", task => task
                .ReadFrom(input)
                .Process<Recorder, int>((recorder, item) =>
                {
                    seen.Add((TaskRunContext.Current!.RunId, recorder.Id, "first", TaskData.Current?.TaskName));
                    recorder.WaitUntilAlive(4); // several scopes are alive at once: runs overlap
                    return item;
                })
                .Process<Recorder, int>(async (recorder, item, ct) =>
                {
                    await Task.Yield();
                    seen.Add((TaskRunContext.Current!.RunId, recorder.Id, "second", TaskData.Current?.TaskName));
                    return item;
                })
                .Do<Recorder>((recorder, _) => seen.Add((TaskRunContext.Current!.RunId, recorder.Id, "third", TaskData.Current?.TaskName)))),
            options => options.WorkerThreads = 8,
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>());

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(count);
        await tracker.WaitForDisposalsAsync(count);

        seen.Should().HaveCount(3 * count).And.OnlyContain(s => s.Task == "scoped", "the run's context flows into scoped steps");
        var byRun = seen.GroupBy(s => s.RunId).ToList();
        byRun.Should().HaveCount(count);
        byRun.Should().OnlyContain(run => run.Select(s => s.Instance).Distinct().Count() == 1, "every step of one run sees the same scope");
        byRun.Select(run => run.First().Instance).Should().OnlyHaveUniqueItems("each run has its own scope");
        tracker.Created.Should().Be(count);
        tracker.AsyncDisposals.Should().Be(count, "the scope is disposed asynchronously");
        tracker.MaxAlive.Should().BeGreaterThanOrEqualTo(4);
        tracker.DisposedInRun.Should().OnlyContain(pair => pair.Value == pair.Key, "disposal runs in its run's context");
    }

    [Fact]
    public async Task ScopedStep_RunCompletes_ScopeIsDisposedAfterTheStep()
    {
        var tracker = new Tracker();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("success", task => task
                .ReadFrom(new ScriptedInput<int>())
                .Process<Recorder, int>((recorder, item) => recorder.IsDisposed ? -1 : item * 2)),
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>());
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("success", 21).Within("the run");
        await tracker.WaitForDisposalsAsync(1);

        result.Outcome.Should().Be(RunOutcome.Completed);
        result.Output.Should().Be(42, "the service was not disposed while the step used it");
        tracker.Created.Should().Be(1);
        tracker.AsyncDisposals.Should().Be(1);
    }

    [Fact]
    public async Task ScopedStep_RunFails_ScopeIsDisposedAfterTheErrorHandlerAndTheDeadLetter()
    {
        var tracker = new Tracker();
        var disposedWhenHandled = new ConcurrentBag<bool>();
        var deadLetters = new ScriptedOutput<ProcessingFailure>("dead");
        Recorder? used = null;
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("failure", task => task
                .ReadFrom(new ScriptedInput<int>())
                .WithRetry(2, TimeSpan.Zero)
                .OnError(failure =>
                {
                    disposedWhenHandled.Add(used!.IsDisposed);
                    return ErrorDecision.DeadLetter;
                })
                .DeadLetterTo(deadLetters)
                .Do<Recorder>((recorder, _) =>
                {
                    used = recorder;
                    throw new InvalidOperationException("boom");
                })),
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>());
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("failure", 1).Within("the run");
        await tracker.WaitForDisposalsAsync(1);

        result.Outcome.Should().Be(RunOutcome.Failed);
        deadLetters.Count.Should().Be(1);
        disposedWhenHandled.Should().Equal(false);
        tracker.Created.Should().Be(1, "the retry runs in the same scope");
        tracker.AsyncDisposals.Should().Be(1);
    }

    [Fact]
    public async Task ScopedStep_EngineStopsWithRunsInFlight_StopReturnsAfterTheirScopesAreDisposed()
    {
        const int inFlight = 5;
        var tracker = new Tracker();
        using var started = new CountdownEvent(inFlight);
        var waiting = new EventSignal(42); // "Stopping waits for the service scope disposals"
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, inFlight));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("shutdown", task => task
                .ReadFrom(input)
                .Process<Recorder, int>(async (recorder, item, ct) =>
                {
                    started.Signal();
                    await Task.Delay(Timeout.Infinite, ct);
                    return item;
                })),
            options => options.DrainTimeout = TimeSpan.Zero,
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>().AddSingleton<ILoggerProvider>(waiting));
        await harness.StartAsync();
        await Task.Run(() => started.Wait(Deadline.Default)).Within("every run to be in its step");
        var gate = tracker.HoldDisposals();

        var stop = harness.Engine.StopAsync();
        await tracker.WaitForDisposalsStartedAsync(inFlight);
        await waiting.Logged.Within("stopping to wait for the disposals");
        var stoppedWhileDisposing = stop.IsCompleted; // the disposals are held: a stop that waits cannot be done
        gate.SetResult();
        await stop.Within("the engine to stop");

        input.Outcomes.Values.Should().HaveCount(inFlight).And.OnlyContain(o => o == RunOutcome.Abandoned);
        stoppedWhileDisposing.Should().BeFalse("stopping waits for the scopes of the runs it abandoned");
        tracker.Created.Should().Be(inFlight);
        tracker.AsyncDisposals.Should().Be(inFlight);
    }

    [Fact]
    public async Task ScopedStep_ServiceWithOnlyIDisposable_IsDisposedWhenTheRunEnds()
    {
        var tracker = new Tracker();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("sync-dispose", task => task
                .ReadFrom(new ScriptedInput<int>())
                .Process((SyncOnly service, int item) => item + service.Offset)),
            services: services => services.AddSingleton(tracker).AddScoped<SyncOnly>());
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("sync-dispose", 1).Within("the run");
        await tracker.WaitForDisposalsAsync(1);

        result.Output.Should().Be(11);
        tracker.SyncDisposals.Should().Be(1);
    }

    [Fact]
    public async Task ScopedStep_RunsThatNeverReachIt_CreateNoScope()
    {
        var tracker = new Tracker();
        var input = new ScriptedInput<int>();
        input.Add(Enumerable.Range(0, 10));
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("lazy", task => task
                .ReadFrom(input)
                .Where(i => i % 2 == 0)
                .Process<Recorder, int>((_, item) => item)),
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>());

        await harness.StartAsync();
        await input.WaitForAcknowledgementsAsync(10);
        await tracker.WaitForDisposalsAsync(5);

        tracker.Created.Should().Be(5);
    }

    [Fact]
    public async Task ScopedSteps_AfterAFlatMap_EveryEmittedItemOfTheRunSeesTheRunsInstance()
    {
        var tracker = new Tracker();
        var seen = new ConcurrentBag<int>();
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("flat", task => task
                .ReadFrom(new ScriptedInput<int>())
                .Process<Recorder, int>((recorder, item) =>
                {
                    seen.Add(recorder.Id);
                    return item;
                })
                .FlatMap(item => Enumerable.Range(0, 3).Select(i => item + i))
                .Do<Recorder>((recorder, _) => seen.Add(recorder.Id))),
            services: services => services.AddSingleton(tracker).AddScoped<Recorder>());
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("flat", 1).Within("the run");
        await tracker.WaitForDisposalsAsync(1);

        result.Outcome.Should().Be(RunOutcome.Completed);
        seen.Should().HaveCount(4).And.OnlyContain(id => id == 1, "the emitted items belong to the run, and so to its scope");
        tracker.Created.Should().Be(1);
    }

    [Fact]
    public async Task ScopedStep_ServiceDisposalThrows_IsLoggedAndTheRunKeepsItsOutcome()
    {
        var logged = new EventSignal(40); // "Disposing the service scope ... threw"
        await using var harness = EngineHarness.Create(
            mesh => mesh.AddTask<int>("dispose-throws", task => task
                .ReadFrom(new ScriptedInput<int>())
                .Process((Throwing _, int item) => item)),
            services: services => services.AddScoped<Throwing>().AddSingleton<ILoggerProvider>(logged));
        await harness.StartAsync();

        var result = await harness.Engine.InjectAsync("dispose-throws", 1).Within("the run");
        await logged.Logged.Within("the disposal failure to be logged");

        result.Outcome.Should().Be(RunOutcome.Completed);
        harness.Engine.GetStatistics("dispose-throws").Completed.Should().Be(1);
    }

    internal sealed class Throwing : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => throw new InvalidOperationException("cannot close");
    }

    [Fact]
    public void ScopedStep_ServiceNotRegistered_FailsAtStartNamingTheServiceAndTheStep()
    {
        var services = new ServiceCollection();
        services.AddMeshinery(mesh => mesh.AddTask<int>("unregistered", task => task
            .ReadFrom(new ScriptedInput<int>())
            .Process<IFraudCheck, bool>((fraud, item) => fraud.IsFraud(item), "check")));
        using var provider = services.BuildServiceProvider();

        var create = () => provider.GetRequiredService<MeshineryEngine>();

        var error = create.Should().Throw<MeshineryConfigurationException>().Which;
        error.TaskName.Should().Be("unregistered");
        error.Message.Should().Contain("step 'check' takes a IFraudCheck, which is not registered");
    }

    /// <summary>A logger provider that signals when a record with one event id is written.</summary>
    internal sealed class EventSignal(int eventId) : ILoggerProvider, ILogger
    {
        private readonly TaskCompletionSource _logged = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Logged => _logged.Task;

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId id, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (id.Id == eventId)
            {
                _logged.TrySetResult();
            }
        }

        public void Dispose()
        {
        }
    }

    internal interface IFraudCheck
    {
        bool IsFraud(int item);
    }

    /// <summary>Counts instances, disposals and how many are alive at once.</summary>
    internal sealed class Tracker
    {
        private readonly Lock _lock = new();
        private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];
        private int _alive;
        private int _disposals;

        public int Created;
        public int AsyncDisposals;
        public int SyncDisposals;
        public int MaxAlive;

        public ConcurrentDictionary<long, long?> DisposedInRun { get; } = new();

        private readonly TaskCompletionSource _fourAlive = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Blocks (inside a step) until four instances were alive at once.</summary>
        public void WaitUntilAlive(int alive)
        {
            alive.Should().Be(4);
            if (!_fourAlive.Task.Wait(Deadline.Default))
            {
                throw new TimeoutException("four scopes alive at once");
            }
        }

        public int Create()
        {
            var id = Interlocked.Increment(ref Created);
            lock (_lock)
            {
                MaxAlive = Math.Max(MaxAlive, ++_alive);
                if (_alive >= 4)
                {
                    _fourAlive.TrySetResult();
                }
            }

            return id;
        }

        public void Disposed(bool async, long? runId, long? runOfContext)
        {
            if (async)
            {
                Interlocked.Increment(ref AsyncDisposals);
            }
            else
            {
                Interlocked.Increment(ref SyncDisposals);
            }

            if (runId is { } id)
            {
                DisposedInRun[id] = runOfContext;
            }

            lock (_lock)
            {
                _alive--;
                _disposals++;
                foreach (var waiter in _waiters.Where(w => _disposals >= w.Count))
                {
                    waiter.Reached.TrySetResult();
                }
            }
        }

        private TaskCompletionSource? _gate;
        private int _disposalsStarted;
        private TaskCompletionSource? _allStarted;
        private int _startedWanted;

        /// <summary>Makes disposals wait until the returned source is completed.</summary>
        public TaskCompletionSource HoldDisposals() => _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Gate => _gate?.Task ?? Task.CompletedTask;

        public void DisposalStarted()
        {
            lock (_lock)
            {
                if (++_disposalsStarted >= _startedWanted)
                {
                    _allStarted?.TrySetResult();
                }
            }
        }

        public Task WaitForDisposalsStartedAsync(int count)
        {
            lock (_lock)
            {
                if (_disposalsStarted >= count)
                {
                    return Task.CompletedTask;
                }

                _startedWanted = count;
                _allStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
                return _allStarted.Task.Within($"{count} disposals to start");
            }
        }

        public Task WaitForDisposalsAsync(int count)
        {
            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                if (_disposals >= count)
                {
                    return Task.CompletedTask;
                }

                _waiters.Add((count, reached));
            }

            return reached.Task.Within(() => $"{count} disposals (saw {Volatile.Read(ref _disposals)})");
        }
    }

    /// <summary>A scoped service with both disposals; the container calls DisposeAsync.</summary>
    internal sealed class Recorder(Tracker tracker) : IAsyncDisposable, IDisposable
    {
        private long? _runId;

        public int Id { get; } = tracker.Create();

        public bool IsDisposed { get; private set; }

        public void WaitUntilAlive(int alive)
        {
            _runId ??= TaskRunContext.Current?.RunId;
            tracker.WaitUntilAlive(alive);
        }

        public async ValueTask DisposeAsync()
        {
            IsDisposed = true;
            var runOfContext = TaskRunContext.Current?.RunId;
            tracker.DisposalStarted();
            await tracker.Gate;
            tracker.Disposed(async: true, _runId, runOfContext);
        }

        public void Dispose() => throw new InvalidOperationException("the scope is disposed asynchronously");
    }

    /// <summary>A scoped service with only a synchronous Dispose.</summary>
    internal sealed class SyncOnly : IDisposable
    {
        private readonly Tracker _tracker;

        public SyncOnly(Tracker tracker)
        {
            _tracker = tracker;
            tracker.Create();
        }

        public int Offset { get; } = 10;

        public void Dispose() => _tracker.Disposed(async: false, null, null);
    }
}
