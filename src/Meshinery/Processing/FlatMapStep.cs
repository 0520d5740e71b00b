namespace Meshinery;

/// <summary>
/// Emits any number of items for one input (flatMap). The steps declared after it form its path, which every emitted
/// item goes through in turn, inside the same run: the run moves to the next emitted item when the previous one reached
/// the end of the path (its writes durable) or was dropped there. So the input is acknowledged once, after every output
/// of every emitted item is durable, and a failure of any emitted item is the run's failure (its retries and error path,
/// with that item as the failed one; the items after it are not processed).
/// </summary>
internal sealed class FlatMapStep<TIn, TOut>(string name, Func<TIn, IEnumerable<TOut>> expand, PipelineSpec path) : Step(name, typeof(TOut))
{
    private Pipeline? _path;

    /// <summary>The steps after the flatMap; built when the task is validated (the builder has added them all by then).</summary>
    public Pipeline Path => _path ??= path.Build();

    public override IEnumerable<Pipeline> Paths => [Path];

    public override void Execute(TaskRun run)
    {
        var emitted = expand(run.GetItem<TIn>())?.ToArray()
            ?? throw new InvalidOperationException($"flatMap step '{Name}' returned null instead of a sequence");
        if (Path.Steps.Length == 0)
        {
            // Nothing follows the flatMap: the emitted items have nowhere to go.
            if (emitted.Length == 0)
            {
                run.Drop();
            }
            else
            {
                run.Advance();
            }

            return;
        }

        run.EnterEmitted(new Emitted(emitted, Path));
    }

    /// <summary>The items one execution emitted and how far the run got through them.</summary>
    private sealed class Emitted(TOut[] items, Pipeline path) : EmittedItems(path)
    {
        private int _next;

        public override bool MoveNext(TaskRun run)
        {
            if (_next >= items.Length)
            {
                return false;
            }

            run.SetItem(items[_next]);
            items[_next++] = default!; // the run holds it now
            return true;
        }
    }
}

/// <summary>The emitted items a run goes through one after the other (see <see cref="FlatMapStep{TIn, TOut}"/>).</summary>
internal abstract class EmittedItems(Pipeline path)
{
    public Pipeline Path { get; } = path;

    /// <summary>The items of an enclosing flatMap, when flatMaps are nested.</summary>
    public EmittedItems? Outer { get; set; }

    /// <summary>How many emitted items reached the end of the path.</summary>
    public int Completed { get; set; }

    /// <summary>Makes the next emitted item the run's item; false when there is none left.</summary>
    public abstract bool MoveNext(TaskRun run);
}
