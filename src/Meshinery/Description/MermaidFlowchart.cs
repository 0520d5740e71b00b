using System.Globalization;
using System.Text;

namespace Meshinery;

/// <summary>
/// Draws a <see cref="TopologyDescription"/> as a Mermaid flowchart, left to right: inputs and outputs as cylinders
/// outside the tasks (an output two tasks share is one node), each task a subgraph of its steps, branch paths labelled
/// by their position, and a dotted <c>failed</c> edge to the dead-letter output.
/// </summary>
internal sealed class MermaidFlowchart
{
    private readonly StringBuilder _text = new();
    private readonly Dictionary<EndpointDescription, string> _endpoints = [];
    private readonly List<string> _undeclared = [];
    private int _nodes;

    private MermaidFlowchart()
    {
    }

    public static string Write(TopologyDescription topology)
    {
        var chart = new MermaidFlowchart();
        chart.Line("flowchart LR");
        for (var t = 0; t < topology.Tasks.Count; t++)
        {
            chart.WriteTask(topology.Tasks[t], string.Create(CultureInfo.InvariantCulture, $"task{t}"));
        }

        return chart._text.ToString();
    }

    private void WriteTask(TaskDescription task, string id)
    {
        // Nodes first, inside the subgraph; edges after it, so that endpoints stay outside.
        var edges = new List<string>();
        var inputs = task.Inputs.Select(Endpoint).ToList(); // numbered first, so that they come first
        Line($"  subgraph {id}[\"{Escape(task.Name)}\"]");
        var first = WriteSteps(task.Steps, edges);
        Line("  end");
        edges.InsertRange(0, inputs.Select(input => $"{input} --> {first ?? id}"));
        if (task.DeadLetter is { } deadLetter)
        {
            edges.Add($"{id} -. failed .-> {Endpoint(deadLetter)}");
        }

        foreach (var declaration in _undeclared)
        {
            Line("  " + declaration);
        }

        _undeclared.Clear();
        foreach (var edge in edges)
        {
            Line("  " + edge);
        }
    }

    /// <summary>Declares the steps' nodes and collects their edges; returns the first step's id.</summary>
    private string? WriteSteps(IReadOnlyList<StepDescription> steps, List<string> edges)
    {
        string? first = null;
        string? previous = null;
        foreach (var step in steps)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"s{++_nodes}");
            var label = $"{Escape(step.Name)}<br/><small>{Describe(step.Kind)}</small>";
            Line(step.Kind == StepKind.Branch ? $"    {id}{{\"{label}\"}}" : $"    {id}[\"{label}\"]");
            first ??= id;
            if (previous is not null)
            {
                edges.Add($"{previous} --> {id}");
            }

            if (step.Output is { } output)
            {
                edges.Add($"{id} --> {Endpoint(output)}");
            }

            for (var p = 0; p < step.Paths.Count; p++)
            {
                var pathFirst = WriteSteps(step.Paths[p], edges);
                if (pathFirst is not null)
                {
                    edges.Add(string.Create(CultureInfo.InvariantCulture, $"{id} -->|path {p + 1}| {pathFirst}"));
                }
            }

            previous = id;
        }

        return first;
    }

    /// <summary>The node id of an input or output; a new one is declared after the task's subgraph, so that it stays outside.</summary>
    private string Endpoint(EndpointDescription endpoint)
    {
        if (!_endpoints.TryGetValue(endpoint, out var id))
        {
            id = string.Create(CultureInfo.InvariantCulture, $"e{_endpoints.Count + 1}");
            _endpoints.Add(endpoint, id);
            _undeclared.Add($"{id}[(\"{Escape(endpoint.Name)}<br/><small>{Escape(endpoint.Kind)}</small>\")]");
        }

        return id;
    }

    private static string Describe(StepKind kind) => kind switch
    {
        StepKind.Process => "process",
        StepKind.Filter => "where",
        StepKind.SideEffect => "do",
        StepKind.ForkJoin => "fork-join",
        StepKind.Branch => "branch",
        StepKind.Write => "write",
        _ => "step",
    };

    // Mermaid's entity codes: a quote or an angle bracket in a name must not end the label or open a tag.
    private static string Escape(string text) =>
        text.Replace("\"", "#quot;", StringComparison.Ordinal).Replace("<", "#lt;", StringComparison.Ordinal).Replace(">", "#gt;", StringComparison.Ordinal);

    private void Line(string line) => _text.Append(line).Append('\n');
}
