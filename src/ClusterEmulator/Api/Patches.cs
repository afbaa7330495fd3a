using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>The patch formats of the API server: JSON merge patch, strategic merge patch (subset) and JSON patch.</summary>
public static class Patches
{
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string JsonPatch = "application/json-patch+json";
    public const string ApplyPatch = "application/apply-patch+yaml";

    /// <summary>RFC 7386: objects merge recursively, null deletes, everything else replaces.</summary>
    public static JsonNode? Merge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject) return patch?.DeepClone();
        var result = target as JsonObject is { } t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in patchObject)
        {
            if (value is null) result.Remove(key);
            else result[key] = Merge(result[key], value);
        }
        return result;
    }

    // Merge keys of the list fields the emulated resources use (from the Kubernetes OpenAPI patch strategy annotations).
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = "name",
        ["initContainers"] = "name",
        ["ephemeralContainers"] = "name",
        ["env"] = "name",
        ["volumes"] = "name",
        ["volumeMounts"] = "mountPath",
        ["imagePullSecrets"] = "name",
        ["ports"] = "containerPort",
        ["conditions"] = "type",
        ["ownerReferences"] = "uid",
        ["containerStatuses"] = "name",
        ["initContainerStatuses"] = "name",
        ["tolerations"] = "key",
        ["hostAliases"] = "ip",
    };

    /// <summary>
    /// Strategic merge patch for the fields the emulated resources use: like a merge patch, but lists with a known merge
    /// key (containers and env by name, conditions by type, ...) merge item by item; <c>$patch: delete|replace</c> is
    /// honoured and other <c>$</c> directives (<c>$setElementOrder</c>, <c>$retainKeys</c>) are ignored.
    /// </summary>
    public static JsonNode? StrategicMerge(JsonNode? target, JsonNode? patch, string? fieldName = null)
    {
        if (patch is JsonObject po)
        {
            if (Json.Str(po, "$patch") == "replace")
            {
                var replaced = (JsonObject)po.DeepClone();
                replaced.Remove("$patch");
                return replaced;
            }
            if (Json.Str(po, "$patch") == "delete") return null;
            var result = target as JsonObject is { } t ? (JsonObject)t.DeepClone() : new JsonObject();
            foreach (var (key, value) in po)
            {
                if (key.StartsWith('$')) continue;
                if (value is null) result.Remove(key);
                else
                {
                    var merged = StrategicMerge(result[key], value, key);
                    if (merged is null) result.Remove(key);
                    else result[key] = merged;
                }
            }
            return result;
        }
        if (patch is JsonArray pa && fieldName is not null && MergeKeys.TryGetValue(fieldName, out var mergeKey) && target is JsonArray ta)
        {
            var result = (JsonArray)ta.DeepClone();
            foreach (var item in pa)
            {
                if (item is not JsonObject itemObj || Json.Node(itemObj, mergeKey) is not { } keyNode)
                {
                    result.Add(item?.DeepClone());
                    continue;
                }
                var keyText = keyNode.ToJsonString();
                var index = -1;
                for (var i = 0; i < result.Count; i++)
                {
                    if (result[i] is JsonObject existing && existing[mergeKey]?.ToJsonString() == keyText) { index = i; break; }
                }
                if (Json.Str(itemObj, "$patch") == "delete")
                {
                    if (index >= 0) result.RemoveAt(index);
                    continue;
                }
                if (index >= 0) result[index] = StrategicMerge(result[index], itemObj);
                else result.Add(StrategicMerge(null, itemObj));
            }
            return result;
        }
        return patch?.DeepClone();
    }

    /// <summary>RFC 6902 JSON patch (add, remove, replace, move, copy, test). Any failure is a 422 naming the operation.</summary>
    public static JsonNode? ApplyJsonPatch(JsonNode document, JsonArray operations, Func<string, Exception> invalid)
    {
        JsonNode? doc = document.DeepClone();
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject op) throw invalid($"the operation at index {i} is not an object");
            var kind = Json.Str(op, "op") ?? throw invalid($"the operation at index {i} has no \"op\"");
            var path = Json.Str(op, "path") ?? throw invalid($"the operation at index {i} has no \"path\"");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, RequireValue(op, i, invalid), invalid);
                    break;
                case "remove":
                    doc = Remove(doc, path, invalid, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, invalid, out _);
                    doc = Add(doc, path, RequireValue(op, i, invalid), invalid);
                    break;
                case "move":
                {
                    var from = Json.Str(op, "from") ?? throw invalid($"the operation at index {i} has no \"from\"");
                    doc = Remove(doc, from, invalid, out var moved);
                    doc = Add(doc, path, moved, invalid);
                    break;
                }
                case "copy":
                {
                    var from = Json.Str(op, "from") ?? throw invalid($"the operation at index {i} has no \"from\"");
                    var value = Resolve(doc, from) ?? throw invalid($"copy: the \"from\" location {from} does not exist");
                    doc = Add(doc, path, value.DeepClone(), invalid);
                    break;
                }
                case "test":
                {
                    var actual = Resolve(doc, path);
                    if (!JsonNode.DeepEquals(actual, op["value"]))
                        throw invalid($"testing value {path} failed");
                    break;
                }
                default:
                    throw invalid($"unexpected kind: {kind}");
            }
        }
        return doc;
    }

    private static JsonNode? RequireValue(JsonObject op, int index, Func<string, Exception> invalid) =>
        op.TryGetPropertyValue("value", out var value) ? value?.DeepClone() : throw invalid($"the operation at index {index} has no \"value\"");

    private static List<string> Pointer(string path, Func<string, Exception> invalid)
    {
        if (path.Length == 0) return [];
        if (path[0] != '/') throw invalid($"invalid JSON pointer \"{path}\"");
        return path[1..].Split('/').Select(s => s.Replace("~1", "/").Replace("~0", "~")).ToList();
    }

    private static JsonNode? Resolve(JsonNode? doc, string path)
    {
        var current = doc;
        foreach (var token in Pointer(path, m => new InvalidOperationException(m)))
        {
            current = current switch
            {
                JsonObject o => o.TryGetPropertyValue(token, out var v) ? v : null,
                JsonArray a when int.TryParse(token, out var idx) && idx >= 0 && idx < a.Count => a[idx],
                _ => null,
            };
            if (current is null) return null;
        }
        return current;
    }

    private static JsonNode? Add(JsonNode? doc, string path, JsonNode? value, Func<string, Exception> invalid)
    {
        var tokens = Pointer(path, invalid);
        if (tokens.Count == 0) return value;
        var parent = Resolve(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        if (tokens.Count == 1) parent = doc;
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-") a.Add(value);
                else if (int.TryParse(last, out var idx) && idx >= 0 && idx <= a.Count) a.Insert(idx, value);
                else throw invalid($"add operation does not apply: index {last} is out of range for {path}");
                break;
            default:
                throw invalid($"add operation does not apply: doc is missing path: \"{path}\": missing value");
        }
        return doc;
    }

    private static JsonNode Remove(JsonNode? doc, string path, Func<string, Exception> invalid, out JsonNode? removed)
    {
        if (doc is null) throw invalid($"remove operation does not apply: doc is missing path: \"{path}\"");
        var tokens = Pointer(path, invalid);
        if (tokens.Count == 0) throw invalid("cannot remove the whole document");
        var parent = tokens.Count == 1 ? doc : Resolve(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                removed = v;
                o.Remove(last);
                return doc;
            case JsonArray a when int.TryParse(last, out var idx) && idx >= 0 && idx < a.Count:
                removed = a[idx];
                a.RemoveAt(idx);
                return doc;
            default:
                throw invalid($"remove operation does not apply: doc is missing path: \"{path}\": missing value");
        }
    }

    private static string Escape(string token) => token.Replace("~", "~0").Replace("/", "~1");
}
