using Meshinery.TestSupport;

namespace Meshinery.Kafka.GroupCollector.Tests.Process;

/// <summary>
/// The GroupCollector sample running as a child process (<c>dotnet GroupCollector.dll ...</c>): a
/// <see cref="ChildProcess"/> (both output streams read continuously and kept for assertions and failure messages).
/// </summary>
/// <remarks>
/// The test project references the sample with <c>ReferenceOutputAssembly="false"</c>, so building the tests builds it
/// (same configuration) without copying it; <see cref="ChildProcess.LocateSample"/> finds it under
/// <c>samples/GroupCollector/bin/{configuration}/{framework}/</c>. <c>MESHINERY_GROUP_COLLECTOR_DLL</c> overrides the path.
/// </remarks>
public static class CollectorProcess
{
    public const string DllOverrideVariable = "MESHINERY_GROUP_COLLECTOR_DLL";

    private static readonly Lazy<string> s_dll = new(() => ChildProcess.LocateSample("GroupCollector", DllOverrideVariable, typeof(CollectorProcess).Assembly));

    public static ChildProcess Start(params string[] arguments) => ChildProcess.Start(s_dll.Value, arguments, "the collector");
}
