namespace Meshinery;

/// <summary>
/// The pseudo-step that calls the task's error handler for a failed run (on a worker, in the run's context) and hands
/// its decision to the <see cref="FailurePolicy"/>. A handler that throws counts as <see cref="ErrorDecision.DeadLetter"/>.
/// </summary>
internal sealed class ErrorHandlerStep(Func<ProcessingFailure, ErrorDecision> handler, FailurePolicy policy)
    : Step("error-handler", typeof(object))
{
    public override bool IsProcessor => false;

    /// <summary>Not a step of the pipeline: its duration is not recorded as one.</summary>
    public override bool IsTimed => false;

    public override void Execute(TaskRun run)
    {
        ErrorDecision decision;
        try
        {
            decision = handler(run.Failure!);
        }
        catch (Exception error)
        {
            policy.HandlerFailed(run, error);
            decision = ErrorDecision.DeadLetter;
        }

        policy.Apply(run, decision);
    }
}
