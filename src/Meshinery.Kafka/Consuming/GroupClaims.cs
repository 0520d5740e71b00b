using System.Runtime.CompilerServices;

namespace Meshinery.Kafka;

/// <summary>
/// Which consumer groups the Kafka inputs of one engine (one service provider) use. Two inputs of one engine in one
/// group would rebalance each other at every start and stop, and the group would split their topics between them, so
/// the second is refused when the engine is built.
/// </summary>
internal static class GroupClaims
{
    private static readonly ConditionalWeakTable<IServiceProvider, Dictionary<(string Servers, string Group), (object Input, string Name)>> s_claims = [];

    /// <summary>Claims the group for <paramref name="input"/>; returns the name of the other input holding it, if any.</summary>
    public static string? Claim(IServiceProvider services, string bootstrapServers, string groupId, object input, string name)
    {
        var claims = s_claims.GetOrCreateValue(services);
        lock (claims)
        {
            var key = (bootstrapServers, groupId);
            if (claims.TryGetValue(key, out var holder) && !ReferenceEquals(holder.Input, input))
            {
                return holder.Name;
            }

            claims[key] = (input, name);
            return null;
        }
    }
}
