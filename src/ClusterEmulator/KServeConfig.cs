using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Api;

namespace ArgoHooks.ClusterEmulator;

/// <summary>Configures the emulated KServe from an <c>inferenceservice-config</c> ConfigMap, the way real KServe reads it.</summary>
public static class KServeConfig
{
    /// <summary>
    /// Real KServe copies InferenceService annotations into predictor pods, except those of
    /// <c>data.inferenceService.serviceAnnotationDisallowedList</c>: switch that copying on and take the list from the ConfigMap.
    /// </summary>
    public static EmulatorOptions WithInferenceServiceConfig(this EmulatorOptions options, string configMapYaml)
    {
        var configMap = YamlJson.ParseSingle(configMapYaml);
        var inferenceService = JsonNode.Parse(configMap["data"]?["inferenceService"]?.GetValue<string>()
            ?? throw new ArgumentException("The ConfigMap has no data.inferenceService entry.", nameof(configMapYaml)));
        options.KServePropagatesInferenceServiceAnnotations = true;
        options.ServiceAnnotationDisallowedList =
            [.. (inferenceService?["serviceAnnotationDisallowedList"] as JsonArray ?? []).Select(key => key!.GetValue<string>())];
        return options;
    }
}
