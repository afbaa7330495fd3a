using System.Collections.Concurrent;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Deploy.Tests;

/// <summary>One rendered Kubernetes object.</summary>
internal sealed record Manifest(YamlMappingNode Root)
{
    public string ApiVersion => Root.Str("apiVersion") ?? "";
    public string Kind => Root.Str("kind") ?? "";
    public string Name => Root.At("metadata").Str("name") ?? "";
    public string? Namespace => Root.At("metadata").Str("namespace");
    public string? Annotation(string key) => Root.At("metadata", "annotations").Str(key);
    public string? Label(string key) => Root.At("metadata", "labels").Str(key);
    public YamlMappingNode? At(params string[] path) => Root.At(path);
    public override string ToString() => $"{Kind}/{Name}";
}

internal static class YamlAccess
{
    public static YamlMappingNode? At(this YamlMappingNode? node, params string[] path)
    {
        var current = node;
        foreach (var key in path)
        {
            if (current is null || !current.Children.TryGetValue(new YamlScalarNode(key), out var child))
            {
                return null;
            }

            current = child as YamlMappingNode;
        }

        return current;
    }

    public static string? Str(this YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    public static bool? Bool(this YamlMappingNode? node, string key) =>
        node.Str(key) switch { "true" => true, "false" => false, null => null, var other => throw new FormatException($"'{key}' is '{other}', not a boolean.") };

    public static IReadOnlyList<YamlMappingNode> Maps(this YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? sequence.Children.OfType<YamlMappingNode>().ToList()
            : [];

    public static IReadOnlyList<string> Strings(this YamlMappingNode? node, string key) =>
        node is not null && node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? sequence.Children.OfType<YamlScalarNode>().Select(scalar => scalar.Value ?? "").ToList()
            : [];

    public static bool Has(this YamlMappingNode? node, string key) =>
        node is not null && node.Children.ContainsKey(new YamlScalarNode(key));
}

/// <summary>Renders a kustomization with the real `kubectl kustomize` and parses every document.</summary>
internal static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyList<Manifest>>>> Rendered = new();

    public static string? Kubectl { get; } = ProcessRunner.FindOnPath("kubectl");

    /// <summary>Skips the calling test, with the reason, when kubectl is not installed.</summary>
    public static void RequireKubectl()
    {
        if (Kubectl is null)
        {
            Assert.Skip("kubectl is not on PATH: the manifests are rendered with `kubectl kustomize` (install kubectl to run these tests).");
        }
    }

    /// <summary>The objects of deploy/&lt;relativeFolder&gt;; cached per folder for the test run.</summary>
    public static Task<IReadOnlyList<Manifest>> RenderAsync(string relativeFolder)
    {
        RequireKubectl();
        return Rendered.GetOrAdd(relativeFolder, folder => new Lazy<Task<IReadOnlyList<Manifest>>>(() => RenderUncachedAsync(folder))).Value;
    }

    private static async Task<IReadOnlyList<Manifest>> RenderUncachedAsync(string relativeFolder) =>
        Parse(await RenderTextAsync(relativeFolder, CancellationToken.None));

    /// <summary>The YAML `kubectl kustomize deploy/&lt;relativeFolder&gt;` prints.</summary>
    public static async Task<string> RenderTextAsync(string relativeFolder, CancellationToken cancellationToken)
    {
        RequireKubectl();
        var folder = Path.Combine(RepositoryPaths.Deploy, relativeFolder);
        var result = await ProcessRunner.RunAsync(Kubectl!, ["kustomize", folder], RepositoryPaths.Root, TimeSpan.FromSeconds(60), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"kubectl kustomize deploy/{relativeFolder} failed ({result.ExitCode}): {result.StandardError}");
        }

        return result.StandardOutput;
    }

    public static IReadOnlyList<Manifest> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents
            .Select(document => document.RootNode)
            .OfType<YamlMappingNode>()
            .Select(root => new Manifest(root))
            .ToList();
    }

    /// <summary>Every kustomization under deploy/ that renders on its own (Components are only included by others).</summary>
    public static IReadOnlyList<string> AllKustomizations() =>
        Directory.EnumerateFiles(RepositoryPaths.Deploy, "kustomization.yaml", SearchOption.AllDirectories)
            .Where(file => !File.ReadAllText(file).Contains("kind: Component", StringComparison.Ordinal))
            .Select(file => Path.GetRelativePath(RepositoryPaths.Deploy, Path.GetDirectoryName(file)!).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
}
