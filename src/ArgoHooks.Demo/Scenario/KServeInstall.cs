using System.Reflection;
using ArgoHooks.ClusterEmulator;

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
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("inferenceservice-config-patch.yaml")
            ?? throw new InvalidOperationException("The embedded KServe install patch is missing from the build.");
        using var reader = new StreamReader(stream);
        return options.WithInferenceServiceConfig(reader.ReadToEnd());
    }
}
