using System.Net;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>A failed API request, rendered as a Kubernetes <c>Status</c> object with the matching HTTP code.</summary>
public sealed class ApiException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;
    public string Reason { get; } = reason;
    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus() => StatusObject(Code, Reason, Message, Details);

    public static JsonObject StatusObject(int code, string reason, string message, JsonObject? details)
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = code is >= 200 and < 300 ? "Success" : "Failure",
            ["message"] = message,
            ["reason"] = reason,
        };
        if (details is not null) status["details"] = details.DeepClone();
        status["code"] = code;
        return status;
    }

    private static JsonObject DetailsFor(ResourceType type, string? name)
    {
        var d = new JsonObject();
        if (name is not null) d["name"] = name;
        d["group"] = type.Group;
        d["kind"] = type.Plural;
        return d;
    }

    public static ApiException NotFound(ResourceType type, string name) =>
        new(404, "NotFound", $"{type.GroupResource} \"{name}\" not found", DetailsFor(type, name));

    public static ApiException AlreadyExists(ResourceType type, string name) =>
        new(409, "AlreadyExists", $"{type.GroupResource} \"{name}\" already exists", DetailsFor(type, name));

    public static ApiException Conflict(ResourceType type, string name) =>
        new(409, "Conflict",
            $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
            DetailsFor(type, name));

    public static ApiException PreconditionConflict(ResourceType type, string name, string message) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {type.GroupResource} \"{name}\": {message}", DetailsFor(type, name));

    /// <summary>422 with one cause per invalid field, like the API server's field validation.</summary>
    public static ApiException Invalid(ResourceType type, string name, IReadOnlyList<(string Field, string CauseReason, string Message)> causes)
    {
        var details = new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Kind };
        var arr = new JsonArray();
        foreach (var (field, causeReason, message) in causes)
            arr.Add(new JsonObject { ["reason"] = causeReason, ["message"] = message, ["field"] = field });
        details["causes"] = arr;
        var kindName = type.Group.Length == 0 ? type.Kind : $"{type.Kind}.{type.Group}";
        var summary = string.Join(", ", causes.Select(c => $"{c.Field}: {c.Message}"));
        var text = causes.Count == 1 ? summary : $"[{summary}]";
        return new(422, "Invalid", $"{kindName} \"{name}\" is invalid: {text}", details);
    }

    public static ApiException BadRequest(string message) => new(400, "BadRequest", message);

    public static ApiException MethodNotAllowed(string message) => new(405, "MethodNotAllowed", message);

    public static ApiException UnsupportedMediaType(string contentType) =>
        new(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got \"{contentType}\")");

    public static ApiException Gone(string message) => new((int)HttpStatusCode.Gone, "Expired", message);

    public static ApiException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static ApiException Forbidden(string user, string verb, ResourceType type, string? ns) =>
        new(403, "Forbidden",
            $"{type.GroupResource} is forbidden: User \"{user}\" cannot {verb} resource \"{type.Plural}\" in API group \"{type.Group}\"" +
            (ns is null ? " at the cluster scope" : $" in the namespace \"{ns}\""),
            new JsonObject { ["group"] = type.Group, ["kind"] = type.Plural });
}
