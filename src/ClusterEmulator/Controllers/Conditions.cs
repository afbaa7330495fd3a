using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Controllers;

/// <summary>Condition list helpers that keep <c>lastTransitionTime</c> unless the status flips, as controllers do.</summary>
internal static class Conditions
{
    public static JsonObject? Find(JsonNode? conditions, string type) => Json.FindByKey(conditions, "type", type);

    public static string? StatusOf(JsonNode? conditions, string type) => Json.Str(Find(conditions, type), "status");

    /// <summary>Builds a condition, carrying over lastTransitionTime (and lastUpdateTime) from <paramref name="previous"/> when the status is unchanged.</summary>
    public static JsonObject Make(JsonNode? previous, string type, string status, string? reason, string? message, DateTimeOffset now,
        bool withUpdateTime = false, bool touchUpdateTime = false, string? timeFormat = null)
    {
        var old = Find(previous, type);
        var sameStatus = old is not null && Json.Str(old, "status") == status;
        var c = new JsonObject { ["type"] = type, ["status"] = status };
        if (withUpdateTime)
        {
            var keepUpdate = sameStatus && !touchUpdateTime && Json.Str(old, "reason") == reason && Json.Str(old, "lastUpdateTime") is not null;
            c["lastUpdateTime"] = keepUpdate ? Json.Str(old, "lastUpdateTime") : Json.Timestamp(now);
        }
        c["lastTransitionTime"] = sameStatus && Json.Str(old, "lastTransitionTime") is { } t ? t : Json.Timestamp(now);
        if (!string.IsNullOrEmpty(reason)) c["reason"] = reason;
        if (!string.IsNullOrEmpty(message)) c["message"] = message;
        return c;
    }
}
