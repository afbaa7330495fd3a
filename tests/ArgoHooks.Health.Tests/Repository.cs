using System.Reflection;

namespace ArgoHooks.Health.Tests;

/// <summary>Paths inside the checkout this test assembly was built from.</summary>
internal static class Repository
{
    public static string Root { get; } = Path.GetFullPath(
        typeof(Repository).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!);

    public static string HealthRoot => Path.Combine(Root, "lua", "health");

    public static string InferenceServiceScriptPath => Path.Combine(Root, HealthScript.InferenceServiceRepositoryPath);

    public static string InferenceServiceTestdata => Path.Combine(Path.GetDirectoryName(InferenceServiceScriptPath)!, "testdata");

    public static string ArtifactsFolder => Path.Combine(Root, "argocd-cm");
}
