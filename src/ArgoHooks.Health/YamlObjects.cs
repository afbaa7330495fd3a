using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Health;

/// <summary>
/// Turns YAML (or JSON, which is YAML) into JSON nodes the way Kubernetes tooling reads a
/// manifest: plain scalars are resolved to null, booleans, integers and floats; quoted
/// scalars stay strings.
/// </summary>
public static partial class YamlObjects
{
    /// <summary>Every document of a (possibly multi-document) YAML text; empty documents are skipped.</summary>
    /// <exception cref="FormatException">The text is not valid YAML.</exception>
    public static IReadOnlyList<JsonNode?> Parse(string yaml)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        var trimmed = yaml.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            // JSON is YAML, except that JSON may be indented with tabs, which YAML forbids.
            try
            {
                return [JsonNode.Parse(yaml)];
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new FormatException($"Invalid JSON: {e.Message}", e);
            }
        }
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new FormatException($"Invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        return stream.Documents
            .Where(document => !(document.RootNode is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } scalar && string.IsNullOrEmpty(scalar.Value)))
            .Select(document => ToJson(document.RootNode))
            .ToList();
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => ToObject(mapping),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => ToScalar(scalar),
        _ => throw new FormatException($"Unsupported YAML node {node.NodeType}."),
    };

    private static JsonObject ToObject(YamlMappingNode mapping)
    {
        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
            {
                throw new FormatException($"Only scalar mapping keys are supported (line {key.Start.Line}).");
            }
            result[name] = ToJson(value);
        }
        return result;
    }

    private static JsonNode? ToScalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style is not YamlDotNet.Core.ScalarStyle.Plain || (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific && scalar.Tag.Value == "tag:yaml.org,2002:str"))
        {
            return JsonValue.Create(text);
        }
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }
        if (IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
        {
            return JsonValue.Create(real);
        }
        return JsonValue.Create(text);
    }

    [GeneratedRegex("^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
