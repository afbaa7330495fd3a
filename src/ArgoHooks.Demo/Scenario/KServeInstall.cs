using System.Reflection;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Health;

namespace ArgoHooks.Demo.Scenario;

/// <summary>
/// Configures the emulated KServe the way docs/install.md tells platform engineers to configure the real one:
/// KServe copies InferenceService annotations into predictor pods, and deploy/kserve/inferenceservice-config-patch.yaml
/// keeps the hook service's status annotations out. The scenario reads that very file (embedded), so it proves the
/// install step rather than a copy of it.
/// </summary>
public static class KServeInstall
{
    public static EmulatorOptions AsInstalled(this EmulatorOptions options)
    {
        options.KServePropagatesInferenceServiceAnnotations = true;
        options.ServiceAnnotationDisallowedList = [.. DisallowedAnnotations()];
        return options;
    }

    public static IReadOnlyList<string> DisallowedAnnotations()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("inferenceservice-config-patch.yaml")
            ?? throw new InvalidOperationException("The embedded KServe install patch is missing from the build.");
        using var reader = new StreamReader(stream);
        var configMap = YamlObjects.Parse(reader.ReadToEnd()).Single();
        var inferenceService = JsonNode.Parse(configMap!["data"]!["inferenceService"]!.GetValue<string>());
        return [.. (inferenceService!["serviceAnnotationDisallowedList"] as JsonArray ?? []).Select(key => key!.GetValue<string>())];
    }
}
