using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.ClusterEmulator.Api;

/// <summary>Converts YAML manifests to JSON with YAML 1.2 core-schema scalars (plain true/false/null/numbers are typed).</summary>
public static class YamlJson
{
    public static IReadOnlyList<JsonObject> ParseAll(string text)
    {
        var trimmed = text.TrimStart();
        if (trimmed.StartsWith('{')) return [Store.Json.Parse(text)];
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var result = new List<JsonObject>();
        foreach (var doc in stream.Documents)
        {
            if (doc.RootNode is YamlScalarNode { Value: null or "" }) continue;
            if (Convert(doc.RootNode) is JsonObject o) result.Add(o);
            else throw new YamlException("a manifest document must be a mapping");
        }
        return result;
    }

    public static JsonObject ParseSingle(string text)
    {
        var all = ParseAll(text);
        return all.Count == 1 ? all[0] : throw new YamlException($"expected exactly one document, found {all.Count}");
    }

    private static JsonNode? Convert(YamlNode node) => node switch
    {
        YamlMappingNode map => ConvertMap(map),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(Convert).ToArray()),
        YamlScalarNode scalar => ConvertScalar(scalar),
        _ => throw new YamlException($"unsupported YAML node {node.NodeType}"),
    };

    private static JsonObject ConvertMap(YamlMappingNode map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map.Children)
        {
            var key = (k as YamlScalarNode)?.Value ?? throw new YamlException("mapping keys must be scalars");
            o[key] = Convert(v);
        }
        return o;
    }

    private static JsonNode? ConvertScalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(value);
        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (value.Length > 0 && (char.IsDigit(value[0]) || value[0] is '-' or '+' or '.') &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(value);
    }
}
