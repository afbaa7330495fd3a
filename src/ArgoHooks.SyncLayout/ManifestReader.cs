using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.SyncLayout;

/// <summary>One Kubernetes object of the input, with where it came from (for messages).</summary>
public sealed record ManifestObject(string Source, long Line, YamlMappingNode Node);

/// <summary>Input that cannot be read as Kubernetes manifests: the command exits 2 naming the source and line.</summary>
public sealed class ManifestReadException(string source, long line, string reason)
    : Exception(line > 0 ? $"{source}:{line}: {reason}" : $"{source}: {reason}")
{
    public string InputName { get; } = source;

    public long Line { get; } = line;

    public string Reason { get; } = reason;
}

/// <summary>
/// Reads rendered manifests: multi-document YAML as `helm template` and `kustomize build` print it, with
/// `kind: List` (and any other *List kind with items) expanded into its items. Empty documents (comments only) are skipped.
/// </summary>
public static class ManifestReader
{
    public static IReadOnlyList<ManifestObject> Read(TextReader reader, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(reader);
        }
        catch (YamlException problem)
        {
            // YamlDotNet wraps the real reason (e.g. a duplicate key) in an outer exception at times.
            var innermost = problem.InnerException as YamlException ?? problem;
            throw new ManifestReadException(source, innermost.Start.Line, $"not valid YAML: {FirstLine(innermost.Message)}");
        }

        var objects = new List<ManifestObject>();
        foreach (var document in stream.Documents)
        {
            var root = document.RootNode;
            if (root is YamlScalarNode { Style: ScalarStyle.Plain } scalar && string.IsNullOrEmpty(scalar.Value))
            {
                continue;
            }

            var mapping = root as YamlMappingNode
                ?? throw new ManifestReadException(source, root.Start.Line, "this document is not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)");
            Add(mapping, source, objects);
        }

        return objects;
    }

    private static void Add(YamlMappingNode mapping, string source, List<ManifestObject> objects)
    {
        var kind = Yaml.Text(mapping, "kind");
        if (string.IsNullOrEmpty(kind))
        {
            throw new ManifestReadException(source, mapping.Start.Line, "this object has no kind");
        }

        if (kind.EndsWith("List", StringComparison.Ordinal) && Yaml.Child(mapping, "items") is { } itemsNode)
        {
            if (itemsNode is not YamlSequenceNode items)
            {
                throw new ManifestReadException(source, itemsNode.Start.Line, $"the items of this {kind} are not a list");
            }

            foreach (var item in items)
            {
                Add(item as YamlMappingNode
                    ?? throw new ManifestReadException(source, item.Start.Line, $"an item of this {kind} is not a Kubernetes object"), source, objects);
            }

            return;
        }

        if (string.IsNullOrEmpty(Yaml.Text(mapping, "apiVersion")))
        {
            throw new ManifestReadException(source, mapping.Start.Line, $"this {kind} has no apiVersion");
        }

        if (string.IsNullOrEmpty(Yaml.Text(Yaml.Map(mapping, "metadata"), "name")) && string.IsNullOrEmpty(Yaml.Text(Yaml.Map(mapping, "metadata"), "generateName")))
        {
            throw new ManifestReadException(source, mapping.Start.Line, $"this {kind} has no metadata.name");
        }

        objects.Add(new ManifestObject(source, mapping.Start.Line, mapping));
    }

    private static string FirstLine(string message)
    {
        var end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}

/// <summary>Small null-tolerant accessors over YamlDotNet's representation model.</summary>
internal static class Yaml
{
    public static YamlNode? Child(YamlNode? node, string key) =>
        node is YamlMappingNode mapping && mapping.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    public static YamlMappingNode? Map(YamlNode? node, string key) => Child(node, key) as YamlMappingNode;

    public static IEnumerable<YamlNode> Items(YamlNode? node, string key) =>
        Child(node, key) is YamlSequenceNode sequence ? sequence.Children : [];

    /// <summary>A scalar's text; null for a missing key, a YAML null or a non-scalar.</summary>
    public static string? Text(YamlNode? node, string key) => ScalarText(Child(node, key));

    public static string? ScalarText(YamlNode? node)
    {
        if (node is not YamlScalarNode scalar || scalar.Value is null)
        {
            return null;
        }

        if (scalar.Style == ScalarStyle.Plain && scalar.Value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        return scalar.Value;
    }

    /// <summary>True only for a YAML boolean true (Kubernetes reads manifests as YAML 1.1, where yes/on are true too).</summary>
    public static bool IsTrue(YamlNode? node, string key) =>
        Child(node, key) is YamlScalarNode { Style: ScalarStyle.Plain, Value: "true" or "True" or "TRUE" or "yes" or "Yes" or "YES" or "on" or "On" or "ON" or "y" or "Y" };

    /// <summary>A list of strings (command, args); non-scalar items are skipped.</summary>
    public static IReadOnlyList<string> Strings(YamlNode? node, string key) =>
        Items(node, key).Select(ScalarText).OfType<string>().ToList();

    public static IReadOnlyDictionary<string, string> StringMap(YamlNode? node, string key)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Map(node, key) is { } mapping)
        {
            foreach (var (name, value) in mapping.Children)
            {
                if (ScalarText(name) is { } text && value is YamlScalarNode scalar)
                {
                    result[text] = scalar.Value ?? "";
                }
            }
        }

        return result;
    }
}
