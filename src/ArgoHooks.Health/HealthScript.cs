using System.Reflection;

namespace ArgoHooks.Health;

/// <summary>A Lua health script, as Argo CD would load it from argocd-cm.</summary>
public sealed class HealthScript
{
    /// <summary>Path of the InferenceService script inside the repository.</summary>
    public const string InferenceServiceRepositoryPath = "lua/health/serving.kserve.io/InferenceService/health.lua";

    private const string InferenceServiceResourceName = "ArgoHooks.Health.serving.kserve.io.InferenceService.health.lua";

    private static readonly Lazy<HealthScript> EmbeddedInferenceService = new(LoadEmbeddedInferenceService);

    private HealthScript(string name, string source)
    {
        Name = name;
        Source = source;
    }

    /// <summary>The repository's InferenceService health check, embedded in this assembly at build time.</summary>
    public static HealthScript InferenceService => EmbeddedInferenceService.Value;

    /// <summary>A short name used as the Lua chunk name (it appears in error messages).</summary>
    public string Name { get; }

    /// <summary>The Lua source text.</summary>
    public string Source { get; }

    /// <summary>Reads a script from a file.</summary>
    public static HealthScript FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new HealthScript(Path.GetFileName(path), File.ReadAllText(path));
    }

    /// <summary>Wraps script text that did not come from a file (tests, generated scripts).</summary>
    public static HealthScript FromSource(string name, string source)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(source);
        return new HealthScript(name, source);
    }

    private static HealthScript LoadEmbeddedInferenceService()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(InferenceServiceResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {InferenceServiceResourceName} is missing from {typeof(HealthScript).Assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return new HealthScript("health.lua", reader.ReadToEnd());
    }
}
