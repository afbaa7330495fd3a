using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>TokenReview and SubjectAccessReview, answered from the <see cref="AccessTable"/>.</summary>
internal static class Reviews
{
    public static JsonObject TokenReview(AccessTable access, JsonObject body)
    {
        var token = Json.Str(body, "spec", "token");
        if (string.IsNullOrEmpty(token))
            throw ApiException.Invalid(ResourceTypes.TokenReviews, "", [("spec.token", "FieldValueRequired", "Required value")]);
        var requested = (Json.Node(body, "spec", "audiences") as JsonArray)?.Select(a => a?.GetValue<string>() ?? "").ToList() ?? [];
        var (identity, audiences) = access.Authenticate(token, requested);
        var status = new JsonObject();
        if (identity is null)
        {
            status["authenticated"] = false;
            status["user"] = new JsonObject();
            status["error"] = requested.Count > 0 ? "[invalid bearer token, token audiences is invalid for the target audiences]" : "[invalid bearer token]";
        }
        else
        {
            status["authenticated"] = true;
            status["user"] = new JsonObject
            {
                ["username"] = identity.Username,
                ["uid"] = identity.Uid,
                ["groups"] = new JsonArray(identity.Groups.Select(g => (JsonNode)g).ToArray()),
            };
            status["audiences"] = new JsonArray(audiences.Select(a => (JsonNode)a).ToArray());
        }
        return new JsonObject
        {
            ["kind"] = "TokenReview",
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["spec"] = body["spec"]?.DeepClone(),
            ["status"] = status,
        };
    }

    public static JsonObject SubjectAccessReview(AccessTable access, JsonObject body)
    {
        var spec = body["spec"] as JsonObject ?? throw ApiException.Invalid(ResourceTypes.SubjectAccessReviews, "", [("spec", "FieldValueRequired", "Required value")]);
        var user = Json.Str(spec, "user") ?? "";
        var groups = (spec["groups"] as JsonArray)?.Select(g => g?.GetValue<string>() ?? "").ToList() ?? [];
        if (user.Length == 0 && groups.Count == 0)
            throw ApiException.Invalid(ResourceTypes.SubjectAccessReviews, "", [("spec.user", "FieldValueInvalid", "Invalid value: \"\": at least one of user or group must be specified")]);
        var attributes = spec["resourceAttributes"] as JsonObject;
        if (attributes is null)
        {
            if (spec["nonResourceAttributes"] is null)
                throw ApiException.Invalid(ResourceTypes.SubjectAccessReviews, "", [("spec.resourceAttributes", "FieldValueRequired", "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified")]);
        }
        var verb = Json.Str(attributes, "verb") ?? Json.Str(spec, "nonResourceAttributes", "verb") ?? "";
        var apiGroup = Json.Str(attributes, "group") ?? "";
        var resource = Json.Str(attributes, "resource") ?? "";
        var subresource = Json.Str(attributes, "subresource");
        if (!string.IsNullOrEmpty(subresource)) resource = $"{resource}/{subresource}";
        var ns = Json.Str(attributes, "namespace") is { Length: > 0 } n ? n : null;
        var allowed = attributes is not null && access.IsAllowed(user, groups, verb, apiGroup, resource, ns);
        var status = new JsonObject { ["allowed"] = allowed };
        if (allowed) status["reason"] = "allowed by the emulator's access table";
        return new JsonObject
        {
            ["kind"] = "SubjectAccessReview",
            ["apiVersion"] = "authorization.k8s.io/v1",
            ["metadata"] = new JsonObject { ["creationTimestamp"] = null },
            ["spec"] = spec.DeepClone(),
            ["status"] = status,
        };
    }
}
