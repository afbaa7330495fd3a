using System.Reflection;

namespace ArgoHooks.Deploy.Tests;

/// <summary>Locates the repository root (the folder holding ArgoHooks.sln) from the test binary.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Deploy => Path.Combine(Root, "deploy");

    public static string Combine(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ArgoHooks.sln")))
            {
                return folder.FullName;
            }
        }

        // Built with --artifacts-path outside the repository: the build recorded where the sources are.
        var recorded = typeof(RepositoryPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == "RepoRoot")?.Value;
        if (recorded is not null && File.Exists(Path.Combine(recorded, "ArgoHooks.sln")))
        {
            return Path.GetFullPath(recorded);
        }

        throw new InvalidOperationException($"ArgoHooks.sln not found above {AppContext.BaseDirectory} nor at the recorded RepoRoot '{recorded}'.");
    }
}
