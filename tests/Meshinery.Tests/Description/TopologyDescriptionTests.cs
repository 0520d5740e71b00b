namespace Meshinery.Tests.Description;

/// <summary><c>engine.Describe()</c>: the tasks as data and as a Mermaid flowchart, read without starting the engine.</summary>
public class TopologyDescriptionTests
{
    [Fact]
    public async Task Describe_TaskWithEveryKindOfStep_ListsInputsStepsPathsOutputsAndDeadLetter()
    {
        var big = new InMemoryOutput<int>("big");
        var small = new InMemoryOutput<int>("small");
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("numbers", task => task
            .ReadFrom(new InMemoryInput<int>("in-a"))
            .ReadFrom(new KindedInput("tick"))
            .WithMaxInFlight(7)
            .WithWorkerThreads(3)
            .DeadLetterTo(new InMemoryOutput<ProcessingFailure>("dead"))
            .Process(i => i + 1, "inc")
            .Process((i, _) => ValueTask.FromResult(i * 2), "double")
            .Where(i => i > 0, "positive")
            .Do(_ => { }, "audit")
            .ForkJoin<int, int, int>((i, _) => ValueTask.FromResult(i), (i, _) => ValueTask.FromResult(-i), (_, a, b) => a - b, "spread")
            .Branch(paths => paths
                .When(i => i > 100, path => path.WriteTo(big))
                .Otherwise(path => path.Process(i => i, "keep").WriteTo(small)), "route")));

        var task = harness.Engine.Describe().Tasks.Should().ContainSingle().Subject;

        harness.Engine.State.Should().Be(MeshineryEngineState.NotStarted, "describing needs no start");
        task.Name.Should().Be("numbers");
        task.InputType.Should().Be("Int32");
        task.Inputs.Should().Equal(new EndpointDescription("in-a", "InMemoryInput"), new EndpointDescription("tick", "TickCounter"));
        task.DeadLetter.Should().Be(new EndpointDescription("dead", "InMemoryOutput"));
        (task.MaxInFlight, task.WorkerThreads).Should().Be((7, 3));
        task.Steps.Select(s => (s.Name, s.Kind)).Should().Equal(
            ("inc", StepKind.Process), ("double", StepKind.Process), ("positive", StepKind.Filter), ("audit", StepKind.SideEffect),
            ("spread", StepKind.ForkJoin), ("route", StepKind.Branch));
        var paths = task.Steps[^1].Paths;
        paths.Should().HaveCount(2);
        paths[0].Should().ContainSingle().Which.Should().Match<StepDescription>(
            s => s.Kind == StepKind.Write && s.Output == new EndpointDescription("big", "InMemoryOutput"));
        paths[1].Select(s => s.Name).Should().Equal("keep", "write-small");
    }

    [Fact]
    public async Task ToMermaid_SmallTopology_DrawsEndpointsOutsideTheTaskAndEdgesInOrder()
    {
        await using var harness = EngineHarness.Create(mesh => mesh.AddTask<int>("enrich", task => task
            .ReadFrom(new InMemoryInput<int>("orders"))
            .DeadLetterTo(new InMemoryOutput<ProcessingFailure>("orders-dlq"))
            .Process(i => i, "validate")
            .Branch(paths => paths
                .When(i => i > 0, path => path.WriteTo(new InMemoryOutput<int>("accepted")))
                .Otherwise(path => path.Where(_ => false, "never")), "route")));

        var mermaid = harness.Engine.Describe().ToMermaid();

        mermaid.Should().Be("""
            flowchart LR
              subgraph task0["enrich"]
                s1["validate<br/><small>process</small>"]
                s2{"route<br/><small>branch</small>"}
                s3["write-accepted<br/><small>write</small>"]
                s4["never<br/><small>where</small>"]
              end
              e1[("orders<br/><small>InMemoryInput</small>")]
              e2[("accepted<br/><small>InMemoryOutput</small>")]
              e3[("orders-dlq<br/><small>InMemoryOutput</small>")]
              e1 --> s1
              s1 --> s2
              s3 --> e2
              s2 -->|path 1| s3
              s2 -->|path 2| s4
              task0 -. failed .-> e3

            """.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task ToMermaid_OutputSharedByTwoTasksAndQuotesInNames_OneNodeAndEscapedLabels()
    {
        var shared = new InMemoryOutput<int>("shared");
        await using var harness = EngineHarness.Create(mesh => mesh
            .AddTask<int>("first", task => task.ReadFrom(new InMemoryInput<int>("a")).Process(i => i, "say \"hi\" <now>").WriteTo(shared))
            .AddTask<int>("second", task => task.ReadFrom(new InMemoryInput<int>("b")).WriteTo(shared)));

        var mermaid = harness.Engine.Describe().ToMermaid();

        mermaid.Should().Contain("say #quot;hi#quot; #lt;now#gt;");
        mermaid.Split('\n').Count(l => l.Contains("(\"shared<br/>", StringComparison.Ordinal)).Should().Be(1);
        mermaid.Should().Contain("subgraph task1[\"second\"]");
    }
}

/// <summary>An input that names its kind through <see cref="ITopologyEndpoint"/>.</summary>
internal sealed class KindedInput(string name) : InputSource<int>(name), ITopologyEndpoint
{
    public string Kind => "TickCounter";

    public override int Poll(Span<SourceItem<int>> buffer) => 0;
}
