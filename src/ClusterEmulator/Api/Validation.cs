using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>The field validation the emulated resources need, answered as 422 Invalid with one cause per field.</summary>
internal static partial class Validation
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Subdomain();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035Label();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex LabelValue();

    public static void Validate(ResourceType type, JsonObject obj, JsonObject? old)
    {
        var causes = new List<(string Field, string Reason, string Message)>();
        var name = Json.Str(obj, "metadata", "name") ?? "";
        if (name.Length == 0)
            causes.Add(("metadata.name", "FieldValueRequired", "Required value: name or generateName is required"));
        else if (type == ResourceTypes.InferenceServices ? !Dns1035Label().IsMatch(name) || name.Length > 63 : !Subdomain().IsMatch(name) || name.Length > 253)
            causes.Add(("metadata.name", "FieldValueInvalid",
                $"Invalid value: \"{name}\": a lowercase RFC 1123 {(type == ResourceTypes.InferenceServices ? "label" : "subdomain")} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));

        CheckStringMap(obj, "labels", causes, checkLabelValues: true);
        CheckStringMap(obj, "annotations", causes, checkLabelValues: false);

        if (type == ResourceTypes.InferenceServices)
        {
            if (Json.Node(obj, "spec", "predictor") is not JsonObject predictor)
                causes.Add(("spec.predictor", "FieldValueRequired", "Required value"));
            else
            {
                if (predictor["annotations"] is { } pa && pa is not JsonObject)
                    causes.Add(("spec.predictor.annotations", "FieldValueTypeInvalid", "Invalid value: must be an object of strings"));
                else if (predictor["annotations"] is JsonObject pao && pao.Any(p => p.Value is not JsonValue v || !v.TryGetValue<string>(out _)))
                    causes.Add(("spec.predictor.annotations", "FieldValueTypeInvalid", "Invalid value: annotation values must be strings"));
                if (Json.Long(predictor, "minReplicas") is < 0)
                    causes.Add(("spec.predictor.minReplicas", "FieldValueInvalid", "Invalid value: must be greater than or equal to 0"));
            }
        }
        if (type == ResourceTypes.Deployments)
        {
            if (Json.Node(obj, "spec", "template") is not JsonObject)
                causes.Add(("spec.template", "FieldValueRequired", "Required value"));
            if (Json.Node(obj, "spec", "selector") is not JsonObject)
                causes.Add(("spec.selector", "FieldValueRequired", "Required value"));
            if (Json.Long(obj, "spec", "replicas") is < 0)
                causes.Add(("spec.replicas", "FieldValueInvalid", "Invalid value: must be greater than or equal to 0"));
        }
        if (type == ResourceTypes.Pods && old is null && Json.Node(obj, "spec", "containers") is not JsonArray { Count: > 0 })
            causes.Add(("spec.containers", "FieldValueRequired", "Required value"));
        if (type == ResourceTypes.Pods && old is not null && !JsonNode.DeepEquals(Json.Node(obj, "spec", "containers"), Json.Node(old, "spec", "containers")))
            causes.Add(("spec", "FieldValueForbidden", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.terminationGracePeriodSeconds`"));

        if (causes.Count > 0) throw ApiException.Invalid(type, name, causes);
    }

    private static void CheckStringMap(JsonObject obj, string field, List<(string Field, string Reason, string Message)> causes, bool checkLabelValues)
    {
        var node = Json.Node(obj, "metadata", field);
        if (node is null) return;
        if (node is not JsonObject map)
        {
            causes.Add(($"metadata.{field}", "FieldValueTypeInvalid", "Invalid value: must be an object of strings"));
            return;
        }
        foreach (var (k, v) in map)
        {
            if (v is not JsonValue jv || !jv.TryGetValue<string>(out var s))
                causes.Add(($"metadata.{field}.{k}", "FieldValueTypeInvalid", "Invalid value: must be a string"));
            else if (checkLabelValues && s.Length > 0 && (s.Length > 63 || !LabelValue().IsMatch(s)))
                causes.Add(($"metadata.labels", "FieldValueInvalid", $"Invalid value: \"{s}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
        }
    }
}
