namespace Meshinery;

/// <summary>
/// Sends the item down the first path whose predicate matches; the run continues there and ends with that path.
/// When no predicate matches and there is no "otherwise" path, the item is dropped.
/// </summary>
internal sealed class BranchStep<T>(string name, IReadOnlyList<(Func<T, bool> When, Pipeline Path)> routes) : Step(name, typeof(T))
{
    public override IEnumerable<Pipeline> Paths => routes.Select(r => r.Path);

    public override void Execute(TaskRun run)
    {
        var item = run.GetItem<T>();
        foreach (var (when, path) in routes)
        {
            if (when(item))
            {
                run.Enter(path);
                return;
            }
        }

        run.Drop();
    }

    public override string? Validate() => routes.Count == 0 ? $"branch '{Name}' has no path" : null;
}
