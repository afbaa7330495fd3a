using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Health.Tests;

/// <summary>One case of a health_test.yaml, in Argo CD's format.</summary>
internal sealed record HealthCase(string TestFile, string ScriptPath, string InputPath, HealthStatus Expected)
{
    public string InputFile => Path.Combine(Path.GetDirectoryName(TestFile)!, InputPath);

    public JsonNode? LoadObject() => YamlObjects.Parse(File.ReadAllText(InputFile)).Single();

    /// <summary>Every case of every health_test.yaml under lua/health.</summary>
    public static IReadOnlyList<HealthCase> All { get; } = Discover();

    private static List<HealthCase> Discover()
    {
        var cases = new List<HealthCase>();
        foreach (var testFile in Directory.EnumerateFiles(Repository.HealthRoot, "health_test.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(File.ReadAllText(testFile)));
            var root = (YamlMappingNode)stream.Documents.Single().RootNode;
            var script = Path.Combine(Path.GetDirectoryName(testFile)!, "health.lua");
            foreach (var entry in ((YamlSequenceNode)root["tests"]).Children.Cast<YamlMappingNode>())
            {
                var health = (YamlMappingNode)entry["healthStatus"];
                cases.Add(new HealthCase(
                    testFile,
                    script,
                    ((YamlScalarNode)entry["inputPath"]).Value!,
                    new HealthStatus(((YamlScalarNode)health["status"]).Value!, ((YamlScalarNode)health["message"]).Value!)));
            }
        }
        return cases;
    }
}
