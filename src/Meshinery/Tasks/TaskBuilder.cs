namespace Meshinery;

/// <summary>
/// Describes a task: its inputs, its settings and its chain of steps. Each step may change the item type, so the
/// builder's second type parameter follows the chain. Settings (in-flight limit, retries, error handling, data) apply
/// to the whole task wherever they are called. Nothing is validated here: the engine validates every task at startup
/// and throws one <see cref="MeshineryConfigurationException"/> naming the task and the setting.
/// </summary>
/// <typeparam name="TInput">The type of the task's input items.</typeparam>
/// <typeparam name="T">The type of the item at this point of the chain.</typeparam>
public sealed partial class TaskBuilder<TInput, T>
{
    private readonly TaskSpec _task;
    private readonly PipelineSpec _pipeline;

    internal TaskBuilder(TaskSpec task, PipelineSpec pipeline)
    {
        _task = task;
        _pipeline = pipeline;
    }

    /// <summary>Adds an input. A task with several inputs merges them; each source instance belongs to one task.</summary>
    /// <param name="source">The input source.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> ReadFrom(InputSource<TInput> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _task.Inputs.Add(new InputBinding<TInput>(source));
        return this;
    }

    /// <summary>
    /// Adds an input whose items are high priority (a priority lane): their steps go ahead of normal ones on the task's
    /// workers (see <see cref="WithPriority"/>). Otherwise like <see cref="ReadFrom"/>.
    /// </summary>
    /// <param name="source">The input source.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> ReadPriorityFrom(InputSource<TInput> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _task.Inputs.Add(new InputBinding<TInput>(source) { IsHighPriority = true });
        return this;
    }

    /// <summary>
    /// Ranks the task's items: those for which <paramref name="isHigh"/> is true are high priority. Their steps go ahead
    /// of normal steps on the worker pool (ambulance), also after awaits and retries; after
    /// <c>8</c> high-priority steps in a row a worker takes a waiting normal step, so normal items are never starved.
    /// With <see cref="WithReservedWorkers"/> they run on reserved threads instead (carpool). The selector runs once per
    /// item, when its run starts; an item whose selector throws takes the error path (step <c>priority</c>).
    /// </summary>
    /// <param name="isHigh">Whether an item is high priority.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithPriority(Func<TInput, bool> isHigh)
    {
        ArgumentNullException.ThrowIfNull(isHigh);
        _task.PrioritySelector = run => isHigh(run.GetItem<TInput>());
        return this;
    }

    /// <summary>
    /// Reserves <paramref name="workers"/> of the task's own threads (<see cref="WithWorkerThreads(int)"/>) for high-priority
    /// items (carpool): high-priority steps run only on them, at most <paramref name="workers"/> at once, and never wait
    /// behind normal steps; normal steps run on the other threads, and the reserved ones idle without high-priority work.
    /// </summary>
    /// <param name="workers">Reserved threads; more than 0 and fewer than the task's worker threads.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithReservedWorkers(int workers)
    {
        _task.ReservedWorkers = workers;
        return this;
    }

    /// <summary>
    /// Sets how many of the task's runs may be in flight at once (read but not yet acknowledged). When the task is
    /// full, its inputs are not polled. Default: 256.
    /// </summary>
    /// <param name="maxInFlight">The limit; must be greater than 0.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithMaxInFlight(int maxInFlight)
    {
        _task.MaxInFlight = maxInFlight;
        return this;
    }

    /// <summary>
    /// Gives the task its own pool of worker threads instead of the engine's shared pool, so that its blocking steps
    /// cannot starve other tasks. Default: the shared pool (<see cref="MeshineryOptions.WorkerThreads"/>).
    /// </summary>
    /// <param name="workerThreads">The number of dedicated threads; must be greater than 0.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithWorkerThreads(int workerThreads)
    {
        _task.WorkerThreads = workerThreads;
        return this;
    }

    /// <summary>
    /// Limits how fast the task reads: at most <paramref name="permits"/> items per <paramref name="per"/>, with bursts of
    /// up to <paramref name="permits"/> (a token bucket of <c>System.Threading.RateLimiting</c>, refilled every
    /// <paramref name="per"/> on the engine's clock). The limit is back-pressure: items beyond it are not read, so they
    /// wait in their source (a Kafka input pauses its partitions once its buffer is full, as for a full task); nothing is dropped. Injected runs are not
    /// limited. Default: no limit.
    /// </summary>
    /// <param name="permits">Items per period; must be greater than 0.</param>
    /// <param name="per">The period; must be greater than 0. Use a shorter period (10 per 100 ms rather than 100 per second) for smaller bursts.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithRateLimit(int permits, TimeSpan per)
    {
        _task.RateLimit = new RateLimit(permits, per);
        return this;
    }

    /// <summary>
    /// Limits how fast the task's processor steps start, across all its runs: at most <paramref name="permits"/> step
    /// executions per <paramref name="per"/>, with bursts of up to <paramref name="permits"/> (a token bucket of
    /// <c>System.Threading.RateLimiting</c>, refilled every <paramref name="per"/> on the engine's clock). Use it to stay
    /// under a downstream service's quota when a task calls it from several steps. Every processor step counts, each
    /// retry attempt too (a fork counts once); writes to outputs, the error handler and the dead-letter write do not.
    /// A run whose step finds no permit waits without holding a worker, oldest first, and keeps its in-flight slot, so
    /// a task whose steps wait stops reading: back-pressure, nothing is dropped. Combines with
    /// <see cref="WithRateLimit"/> (items read). Default: no limit.
    /// </summary>
    /// <param name="permits">Steps per period; must be greater than 0.</param>
    /// <param name="per">The period; must be greater than 0.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithStepRateLimit(int permits, TimeSpan per)
    {
        _task.StepRateLimit = new RateLimit(permits, per);
        return this;
    }

    /// <summary>
    /// Sets which runs of the task may overlap. <see cref="TaskOrdering.Key"/> orders by the source's key (for Kafka, the
    /// message key); use <see cref="OrderByKey{TKey}(Func{TInput, TKey})"/> for a key of your own. Default:
    /// <see cref="TaskOrdering.Unordered"/>. Injected runs (<see cref="MeshineryEngine.InjectAsync{T}"/>) are never ordered.
    /// </summary>
    /// <param name="ordering">The ordering.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithOrdering(TaskOrdering ordering)
    {
        _task.SetOrdering(ordering, null, $"WithOrdering({ordering})");
        return this;
    }

    /// <summary>
    /// Orders the task's runs by the source's key (<see cref="SourceItem{T}.Key"/>; for Kafka, the message key, compared
    /// by its bytes): runs with the same key start in the order they were read and never overlap, runs of different keys
    /// run in parallel up to the in-flight limit. An item without a key takes the error path.
    /// </summary>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> OrderByKey()
    {
        _task.SetOrdering(TaskOrdering.Key, null, "OrderByKey()");
        return this;
    }

    /// <summary>
    /// Orders the task's runs by a key of the input item (for example <c>order =&gt; order.AccountId</c>), for any
    /// source: runs with the same key start in the order they were read and never overlap. The selector runs once per
    /// item, when its run starts; an item whose selector throws or returns <see langword="null"/> takes the error path
    /// (step <c>order-key</c>) without holding up any key.
    /// </summary>
    /// <typeparam name="TKey">The key type; keys are compared with their own equality.</typeparam>
    /// <param name="selector">Returns the item's key.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> OrderByKey<TKey>(Func<TInput, TKey> selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        _task.SetOrdering(TaskOrdering.Key, run => selector(run.GetItem<TInput>()), "OrderByKey(selector)");
        return this;
    }

    /// <summary>Runs one item at a time per partition of each input, in the order read (what Kafka Streams does).</summary>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> OrderByPartition()
    {
        _task.SetOrdering(TaskOrdering.Partition, null, "OrderByPartition()");
        return this;
    }

    /// <summary>
    /// Gives the task an elastic pool of its own: it starts with <paramref name="minThreads"/> threads, starts one more
    /// whenever a step is queued while every thread is busy (up to <paramref name="maxThreads"/>), and releases a thread
    /// that found no work for <paramref name="idleTimeout"/> (never below the minimum). Its size is the
    /// <c>meshinery.workers.size</c> metric. Reserved workers (<see cref="WithReservedWorkers"/>) are taken out of both
    /// bounds.
    /// </summary>
    /// <param name="minThreads">The threads it starts with and shrinks back to; greater than 0.</param>
    /// <param name="maxThreads">The most threads; not less than <paramref name="minThreads"/>.</param>
    /// <param name="idleTimeout">How long a thread above the minimum waits for work before it exits. Default: 30 s.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithWorkerThreads(int minThreads, int maxThreads, TimeSpan? idleTimeout = null)
    {
        _task.WorkerThreads = minThreads;
        _task.MaxWorkerThreads = maxThreads;
        _task.WorkerIdleTimeout = idleTimeout;
        return this;
    }

    /// <summary>Adds a user entry to the task's <see cref="TaskData"/>.</summary>
    /// <param name="key">The key; keys starting with <c>meshinery.</c> are reserved.</param>
    /// <param name="value">The value.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithData(string key, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        _task.Data[key] = value;
        return this;
    }

    /// <summary>Retries a failed step up to <paramref name="maxAttempts"/> tries in all, waiting with exponential backoff.</summary>
    /// <param name="maxAttempts">Tries in all, the first included.</param>
    /// <param name="delay">The wait before the first retry; it doubles for each further retry, up to 30 s.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithRetry(int maxAttempts, TimeSpan delay) =>
        WithRetry(options =>
        {
            options.MaxAttempts = maxAttempts;
            options.Delay = delay;
        });

    /// <summary>Configures how failed steps are retried (see <see cref="RetryOptions"/> for the defaults).</summary>
    /// <param name="configure">Sets the options.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> WithRetry(Action<RetryOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(_task.Retry);
        return this;
    }

    /// <summary>
    /// Sets the task's error handler. It is called on a worker thread, in the run's context, for every item whose step
    /// failed after its retries or that could not be read, and decides: continue with a replacement, drop, or dead-letter.
    /// Without a handler every such item is dead-lettered.
    /// </summary>
    /// <param name="handler">The handler. If it throws, the item is dead-lettered.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> OnError(Func<ProcessingFailure, ErrorDecision> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        _task.ErrorHandler = handler;
        return this;
    }

    /// <summary>
    /// Sets the task's dead-letter output: failed items are written there (awaited until durable) before they are
    /// acknowledged. Without one they are logged as errors and counted.
    /// </summary>
    /// <param name="sink">The dead-letter output.</param>
    /// <returns>This builder.</returns>
    public TaskBuilder<TInput, T> DeadLetterTo(OutputSink<ProcessingFailure> sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _task.DeadLetterSink = sink;
        return this;
    }

    /// <summary>
    /// Adds a synchronous processor. It may block (sleep, synchronous I/O): it runs on a worker thread of the task's
    /// bounded pool, never on the .NET thread pool.
    /// </summary>
    /// <typeparam name="TOut">The type it returns.</typeparam>
    /// <param name="processor">The processor.</param>
    /// <param name="name">The step's name in logs, metrics and dead letters. Default: <c>process-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> Process<TOut>(Func<T, TOut> processor, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        return Then<TOut>(new SyncStep<T, TOut>(StepName(name, "process"), processor));
    }

    /// <summary>
    /// Adds an asynchronous processor. It starts on a worker thread; its continuations run where its awaits resume. The
    /// token is cancelled when the engine gives up on the run at shutdown.
    /// </summary>
    /// <typeparam name="TOut">The type it returns.</typeparam>
    /// <param name="processor">The processor.</param>
    /// <param name="name">The step's name. Default: <c>process-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> Process<TOut>(Func<T, CancellationToken, ValueTask<TOut>> processor, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        return Then<TOut>(new AsyncStep<T, TOut>(StepName(name, "process"), processor));
    }

    /// <summary>
    /// Emits any number of items for each item (flatMap): the steps after this one run for every emitted item in turn,
    /// one after the other inside the same run. The input item is acknowledged once, after every output of every emitted
    /// item is durable (so a Kafka offset is committed only then); a failure of any emitted item in a later step is the
    /// run's failure (that step's retries, then the error path with the emitted item as the failed one; the emitted
    /// items after it are not processed). An emitted item dropped by a later filter does not end the run; a run none of
    /// whose emitted items reaches the end (or that emitted none) is acknowledged as dropped. The sequence is read
    /// entirely when the step runs, on the worker.
    /// </summary>
    /// <typeparam name="TOut">The type of the emitted items.</typeparam>
    /// <param name="expand">Returns the items to emit; it may block.</param>
    /// <param name="name">The step's name. Default: <c>flat-map-N</c>.</param>
    /// <returns>A builder for the steps each emitted item goes through.</returns>
    public TaskBuilder<TInput, TOut> FlatMap<TOut>(Func<T, IEnumerable<TOut>> expand, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(expand);
        var path = new PipelineSpec();
        Then<T>(new FlatMapStep<T, TOut>(StepName(name, "flat-map"), expand, path));
        _pipeline.Close(); // what follows belongs to the emitted items' path
        return new TaskBuilder<TInput, TOut>(_task, path);
    }

    /// <summary>Keeps only the items for which <paramref name="predicate"/> is true; the others are acknowledged as dropped.</summary>
    /// <param name="predicate">The filter.</param>
    /// <param name="name">The step's name. Default: <c>where-N</c>.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> Where(Func<T, bool> predicate, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return Then<T>(new FilterStep<T>(StepName(name, "where"), predicate));
    }

    /// <summary>Adds a synchronous side effect; the item passes on unchanged.</summary>
    /// <param name="action">The side effect; may block.</param>
    /// <param name="name">The step's name. Default: <c>do-N</c>.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> Do(Action<T> action, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Then<T>(new SideEffectStep<T>(StepName(name, "do"), action));
    }

    /// <summary>Adds an asynchronous side effect; the item passes on unchanged.</summary>
    /// <param name="action">The side effect.</param>
    /// <param name="name">The step's name. Default: <c>do-N</c>.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> Do(Func<T, CancellationToken, ValueTask> action, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return Then<T>(new SideEffectStep<T>(StepName(name, "do"), action));
    }

    /// <summary>
    /// Runs several branches on the same item concurrently and combines their results. Each branch starts on a worker
    /// thread, so branches that block run in parallel too; all see the run's context (task data, log scope).
    /// </summary>
    /// <typeparam name="TBranch">What each branch returns.</typeparam>
    /// <typeparam name="TOut">What the join returns.</typeparam>
    /// <param name="branches">The branches.</param>
    /// <param name="join">Combines the item and the branches' results (in the branches' order).</param>
    /// <param name="name">The step's name. Default: <c>fork-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> ForkJoin<TBranch, TOut>(
        IEnumerable<Func<T, CancellationToken, ValueTask<TBranch>>> branches,
        Func<T, TBranch[], TOut> join,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(branches);
        ArgumentNullException.ThrowIfNull(join);
        return Then<TOut>(new ForkJoinStep<T, TBranch, TOut>(StepName(name, "fork"), [.. branches], join));
    }

    /// <summary>Runs two branches of different result types on the same item concurrently and combines their results.</summary>
    /// <typeparam name="TFirst">What the first branch returns.</typeparam>
    /// <typeparam name="TSecond">What the second branch returns.</typeparam>
    /// <typeparam name="TOut">What the join returns.</typeparam>
    /// <param name="first">The first branch.</param>
    /// <param name="second">The second branch.</param>
    /// <param name="join">Combines the item and both results.</param>
    /// <param name="name">The step's name. Default: <c>fork-N</c>.</param>
    /// <returns>A builder for the next step.</returns>
    public TaskBuilder<TInput, TOut> ForkJoin<TFirst, TSecond, TOut>(
        Func<T, CancellationToken, ValueTask<TFirst>> first,
        Func<T, CancellationToken, ValueTask<TSecond>> second,
        Func<T, TFirst, TSecond, TOut> join,
        string? name = null)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(join);
        Func<T, CancellationToken, ValueTask<object?>>[] branches =
        [
            async (item, ct) => await first(item, ct).ConfigureAwait(false),
            async (item, ct) => await second(item, ct).ConfigureAwait(false),
        ];
        return ForkJoin(branches, (item, results) => join(item, (TFirst)results[0]!, (TSecond)results[1]!), name);
    }

    /// <summary>
    /// Routes each item down the first path whose predicate matches. A branch ends the chain: each path has its own
    /// steps and outputs. An item that matches no path (and no <see cref="BranchBuilder{TInput, T}.Otherwise"/>) is dropped.
    /// </summary>
    /// <param name="configure">Declares the paths.</param>
    /// <param name="name">The step's name. Default: <c>branch-N</c>.</param>
    public void Branch(Action<BranchBuilder<TInput, T>> configure, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var branch = new BranchBuilder<TInput, T>(_task);
        configure(branch);
        Then<T>(new BranchStep<T>(StepName(name, "branch"), branch.Build()));
        _pipeline.Close();
    }

    /// <summary>
    /// Writes the item to an output and passes it on once the write is durable. Outputs are written in the order
    /// they are added; the input item is acknowledged after all of them.
    /// </summary>
    /// <param name="sink">The output.</param>
    /// <param name="when">Writes only the items for which it is true. Default: all.</param>
    /// <returns>This chain's builder.</returns>
    public TaskBuilder<TInput, T> WriteTo(OutputSink<T> sink, Func<T, bool>? when = null)
    {
        ArgumentNullException.ThrowIfNull(sink);
        return Then<T>(new WriteStep<T>("write-" + sink.Name, sink, when));
    }

    private string StepName(string? name, string kind) =>
        name ?? $"{kind}-{++_task.StepCount}";

    private TaskBuilder<TInput, TNext> Then<TNext>(Step step)
    {
        if (_pipeline.Add(step) is { } problem)
        {
            _task.BuilderProblems.Add(problem);
        }

        return new TaskBuilder<TInput, TNext>(_task, _pipeline);
    }
}

/// <summary>Declares the paths of a <see cref="TaskBuilder{TInput, T}.Branch"/>.</summary>
/// <typeparam name="TInput">The task's input type.</typeparam>
/// <typeparam name="T">The item type at the branch.</typeparam>
public sealed class BranchBuilder<TInput, T>
{
    private readonly TaskSpec _task;
    private readonly List<(Func<T, bool> When, PipelineSpec Path)> _routes = [];

    internal BranchBuilder(TaskSpec task) => _task = task;

    /// <summary>Adds a path taken by items for which <paramref name="predicate"/> is true (first match wins).</summary>
    /// <param name="predicate">Chooses the path.</param>
    /// <param name="path">Declares the path's steps and outputs.</param>
    /// <returns>This builder.</returns>
    public BranchBuilder<TInput, T> When(Func<T, bool> predicate, Action<TaskBuilder<TInput, T>> path)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(path);
        var pipeline = new PipelineSpec();
        path(new TaskBuilder<TInput, T>(_task, pipeline));
        _routes.Add((predicate, pipeline));
        return this;
    }

    /// <summary>Adds the path taken by items no other path matched.</summary>
    /// <param name="path">Declares the path's steps and outputs.</param>
    /// <returns>This builder.</returns>
    public BranchBuilder<TInput, T> Otherwise(Action<TaskBuilder<TInput, T>> path) => When(static _ => true, path);

    internal IReadOnlyList<(Func<T, bool> When, Pipeline Path)> Build() =>
        [.. _routes.Select(r => (r.When, r.Path.Build()))];
}
