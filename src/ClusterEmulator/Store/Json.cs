using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ArgoHooks.ClusterEmulator.Store;

/// <summary>Small helpers for working with objects stored as <see cref="JsonObject"/>.</summary>
public static class Json
{
    public static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    public static JsonObject Parse(string text) =>
        JsonNode.Parse(text) as JsonObject ?? throw new JsonException("expected a JSON object");

    public static string Serialize(JsonNode? node) => node?.ToJsonString(Compact) ?? "null";

    public static JsonObject Clone(JsonObject obj) => (JsonObject)obj.DeepClone();

    public static JsonObject Metadata(JsonObject obj)
    {
        if (obj["metadata"] is JsonObject m) return m;
        var created = new JsonObject();
        obj["metadata"] = created;
        return created;
    }

    public static string? Str(JsonNode? node, params string[] path)
    {
        var current = node;
        foreach (var segment in path)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segment, out current)) return null;
        }
        return current is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    public static long? Long(JsonNode? node, params string[] path)
    {
        var current = node;
        foreach (var segment in path)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segment, out current)) return null;
        }
        if (current is not JsonValue v) return null;
        if (v.TryGetValue<long>(out var l)) return l;
        if (v.TryGetValue<int>(out var i)) return i;
        if (v.TryGetValue<double>(out var d)) return (long)d;
        if (v.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var el)) return el;
        return null;
    }

    public static JsonNode? Node(JsonNode? node, params string[] path)
    {
        var current = node;
        foreach (var segment in path)
        {
            if (current is not JsonObject o || !o.TryGetPropertyValue(segment, out current)) return null;
        }
        return current;
    }

    /// <summary>Returns the object at <paramref name="path"/>, creating empty objects on the way.</summary>
    public static JsonObject Ensure(JsonObject obj, params string[] path)
    {
        var current = obj;
        foreach (var segment in path)
        {
            if (current[segment] is not JsonObject next)
            {
                next = new JsonObject();
                current[segment] = next;
            }
            current = next;
        }
        return current;
    }

    public static Dictionary<string, string> StringMap(JsonNode? node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
                if (v is JsonValue jv && jv.TryGetValue<string>(out var s)) result[k] = s;
        }
        return result;
    }

    public static JsonObject ToObject(IEnumerable<KeyValuePair<string, string>> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map.OrderBy(p => p.Key, StringComparer.Ordinal)) o[k] = v;
        return o;
    }

    public static string Timestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string MicroTimestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? text) =>
        text is not null && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    /// <summary>Finds the item of an array of objects whose <paramref name="key"/> equals <paramref name="value"/>.</summary>
    public static JsonObject? FindByKey(JsonNode? array, string key, string value) =>
        (array as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o => Str(o, key) == value);
}
