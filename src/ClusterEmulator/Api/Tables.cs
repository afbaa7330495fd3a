using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Controllers;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>
/// Server-side printing (<c>meta.k8s.io/v1 Table</c>) for the resources people look at with kubectl, with the columns of
/// the real server (pods, deployments, replicasets) and of KServe's CRD printer columns (inferenceservices).
/// </summary>
internal static class Tables
{
    public static bool Wanted(string? accept) => accept is not null && accept.Contains("as=Table", StringComparison.Ordinal) && accept.Contains("g=meta.k8s.io", StringComparison.Ordinal);

    private sealed record Column(string Name, string Type, Func<JsonObject, DateTimeOffset, JsonNode?> Cell, string Format = "");

    private static readonly Column NameColumn = new("Name", "string", (o, _) => Json.Str(o, "metadata", "name"), "name");
    private static readonly Column AgeColumn = new("Age", "string", (o, now) => Age(Json.ParseTime(Json.Str(o, "metadata", "creationTimestamp")), now));

    private static IReadOnlyList<Column>? ColumnsFor(ResourceType type)
    {
        if (type == ResourceTypes.Pods)
            return [NameColumn, new("Ready", "string", (o, _) => PodReady(o)), new("Status", "string", (o, _) => PodStatus(o)),
                new("Restarts", "string", (o, _) => Restarts(o)), AgeColumn];
        if (type == ResourceTypes.Deployments)
            return [NameColumn, new("Ready", "string", (o, _) => $"{Json.Long(o, "status", "readyReplicas") ?? 0}/{Json.Long(o, "spec", "replicas") ?? 1}"),
                new("Up-to-date", "integer", (o, _) => Json.Long(o, "status", "updatedReplicas") ?? 0),
                new("Available", "integer", (o, _) => Json.Long(o, "status", "availableReplicas") ?? 0), AgeColumn];
        if (type == ResourceTypes.ReplicaSets)
            return [NameColumn, new("Desired", "integer", (o, _) => Json.Long(o, "spec", "replicas") ?? 1),
                new("Current", "integer", (o, _) => Json.Long(o, "status", "replicas") ?? 0),
                new("Ready", "integer", (o, _) => Json.Long(o, "status", "readyReplicas") ?? 0), AgeColumn];
        if (type == ResourceTypes.InferenceServices)
            return [NameColumn, new("URL", "string", (o, _) => Json.Str(o, "status", "url") ?? ""),
                new("Ready", "string", (o, _) => Conditions.StatusOf(Json.Node(o, "status", "conditions"), "Ready") ?? ""),
                new("Prev", "integer", (o, _) => Traffic(o, latest: false)),
                new("Latest", "integer", (o, _) => Traffic(o, latest: true)),
                new("PrevRolledoutRevision", "string", (o, _) => Json.Str(o, "status", "components", "predictor", "previousRolledoutRevision") ?? ""),
                new("LatestReadyRevision", "string", (o, _) => Json.Str(o, "status", "components", "predictor", "latestReadyRevision") ?? ""),
                AgeColumn];
        return null;
    }

    public static JsonObject? Build(ResourceType type, IEnumerable<JsonObject> items, long resourceVersion, DateTimeOffset now)
    {
        var columns = ColumnsFor(type);
        if (columns is null) return null;
        var definitions = new JsonArray();
        foreach (var c in columns)
        {
            definitions.Add(new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Name,
                ["priority"] = 0,
            });
        }
        var rows = new JsonArray();
        foreach (var item in items)
        {
            rows.Add(new JsonObject
            {
                ["cells"] = new JsonArray(columns.Select(c => c.Cell(item, now)).ToArray()),
                ["object"] = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadata",
                    ["apiVersion"] = "meta.k8s.io/v1",
                    ["metadata"] = Json.Node(item, "metadata")?.DeepClone(),
                },
            });
        }
        return new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString() },
            ["columnDefinitions"] = definitions,
            ["rows"] = rows,
        };
    }

    private static string PodReady(JsonObject pod)
    {
        var statuses = (Json.Node(pod, "status", "containerStatuses") as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var total = (Json.Node(pod, "spec", "containers") as JsonArray)?.Count ?? statuses.Count;
        return $"{statuses.Count(s => Json.Node(s, "ready") is JsonValue v && v.TryGetValue<bool>(out var b) && b)}/{total}";
    }

    private static string PodStatus(JsonObject pod)
    {
        if (Json.Str(pod, "metadata", "deletionTimestamp") is not null) return "Terminating";
        foreach (var s in (Json.Node(pod, "status", "containerStatuses") as JsonArray)?.OfType<JsonObject>() ?? [])
        {
            if (Json.Str(s, "state", "waiting", "reason") is { } waiting) return waiting;
            if (Json.Str(s, "state", "terminated", "reason") is { } terminated) return terminated;
        }
        return Json.Str(pod, "status", "phase") ?? "Pending";
    }

    private static string Restarts(JsonObject pod) =>
        ((Json.Node(pod, "status", "containerStatuses") as JsonArray)?.OfType<JsonObject>().Sum(s => Json.Long(s, "restartCount") ?? 0) ?? 0).ToString();

    private static JsonNode? Traffic(JsonObject isvc, bool latest)
    {
        var traffic = Json.Node(isvc, "status", "components", "predictor", "traffic") as JsonArray;
        var entry = traffic?.OfType<JsonObject>().FirstOrDefault(t => (Json.Node(t, "latestRevision") is JsonValue v && v.TryGetValue<bool>(out var b) && b) == latest);
        return entry is null ? null : Json.Long(entry, "percent");
    }

    /// <summary>kubectl's short human durations: 45s, 3m12s, 7m, 5h, 3d.</summary>
    private static string Age(DateTimeOffset? created, DateTimeOffset now)
    {
        if (created is null) return "<unknown>";
        var d = now - created.Value;
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        if (d < TimeSpan.FromMinutes(2)) return $"{(int)d.TotalSeconds}s";
        if (d < TimeSpan.FromMinutes(10)) return d.Seconds == 0 ? $"{(int)d.TotalMinutes}m" : $"{(int)d.TotalMinutes}m{d.Seconds}s";
        if (d < TimeSpan.FromHours(3)) return $"{(int)d.TotalMinutes}m";
        if (d < TimeSpan.FromHours(48)) return $"{(int)d.TotalHours}h";
        return $"{(int)d.TotalDays}d";
    }
}
