using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>
/// <c>events.k8s.io/v1</c> Events are a view of the same stored <c>v1</c> Events, as on a real server (both APIs
/// list each other's events), with the field renames of Kubernetes' conversion.
/// </summary>
internal static class EventConversion
{
    // events.k8s.io/v1 field -> core/v1 field
    private static readonly (string Modern, string Core)[] Renames =
    [
        ("regarding", "involvedObject"),
        ("note", "message"),
        ("reportingController", "reportingComponent"),
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ];

    public static JsonObject ToCore(JsonObject modern)
    {
        var core = Json.Clone(modern);
        foreach (var (m, c) in Renames)
        {
            core.Remove(c);
            if (core.Remove(m, out var value) && value is not null) core[c] = value;
        }
        core["apiVersion"] = "v1";
        core["kind"] = "Event";
        return core;
    }

    public static JsonObject ToModern(JsonObject core)
    {
        var modern = Json.Clone(core);
        foreach (var (m, c) in Renames)
        {
            modern.Remove(m);
            if (modern.Remove(c, out var value) && value is not null) modern[m] = value;
        }
        modern["apiVersion"] = "events.k8s.io/v1";
        modern["kind"] = "Event";
        return modern;
    }

    /// <summary>Rewrites a field selector written against events.k8s.io/v1 field names to the stored names.</summary>
    public static string? CoreFieldSelector(string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return selector;
        return string.Join(",", selector.Split(',').Select(term =>
        {
            foreach (var (m, c) in Renames)
            {
                if (term.StartsWith(m + ".", StringComparison.Ordinal) || term.StartsWith(m + "=", StringComparison.Ordinal) || term.StartsWith(m + "!", StringComparison.Ordinal))
                    return c + term[m.Length..];
            }
            return term;
        }));
    }
}
