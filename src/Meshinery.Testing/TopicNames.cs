namespace Meshinery.Testing;

/// <summary>Kafka's rules for topic names, checked before anything reaches a broker.</summary>
internal static class TopicNames
{
    /// <summary>The longest topic name Kafka accepts.</summary>
    internal const int MaxLength = 249;

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="parameterName"/> unless <paramref name="name"/> is a valid topic name.</summary>
    internal static void Validate(string? name, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        if (name.Length == 0)
        {
            throw new ArgumentException("A topic name must not be empty.", parameterName);
        }

        if (name.Length > MaxLength)
        {
            throw new ArgumentException(
                $"A topic name must be at most {MaxLength} characters long; '{name[..20]}...' has {name.Length}.", parameterName);
        }

        if (name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a valid topic name.", parameterName);
        }

        foreach (var c in name)
        {
            if (!IsLegal(c))
            {
                throw new ArgumentException(
                    $"Topic name '{name}' contains '{c}'; only ASCII letters, digits, '.', '_' and '-' are allowed.", parameterName);
            }
        }
    }

    private static bool IsLegal(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
