namespace Meshinery;

/// <summary>Which runs of a task may overlap (see <see cref="TaskBuilder{TInput, T}.WithOrdering"/>).</summary>
public enum TaskOrdering
{
    /// <summary>Every run may run at once with every other, up to the in-flight limit; they finish in any order. The default.</summary>
    Unordered,

    /// <summary>
    /// Runs with the same key start in the order they were read and never overlap; runs of different keys run in
    /// parallel. The key is the source's (<see cref="SourceItem{T}.Key"/>, the Kafka message key) unless the task gives a
    /// selector (<see cref="TaskBuilder{TInput, T}.OrderByKey{TKey}(Func{TInput, TKey})"/>).
    /// </summary>
    Key,

    /// <summary>One run at a time per partition of each input, in the order read (what Kafka Streams does).</summary>
    Partition,
}
