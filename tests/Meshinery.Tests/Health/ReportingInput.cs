namespace Meshinery.Tests.Health;

/// <summary>An input with no items that reports whatever health snapshot the test sets, and can report a fatal error.</summary>
internal sealed class ReportingInput(string name) : InputSource<int>(name), IReportInputHealth
{
    private SourceContext? _context;

    public InputHealthSnapshot Snapshot { get; set; }

    public override ValueTask StartAsync(SourceContext context, CancellationToken cancellationToken)
    {
        _context = context;
        return default;
    }

    public override int Poll(Span<SourceItem<int>> buffer) => 0;

    public InputHealthSnapshot GetHealthSnapshot() => Snapshot;

    public void Fail(Exception error) => (_context ?? throw new InvalidOperationException("not started")).ReportFatalError(error);
}
