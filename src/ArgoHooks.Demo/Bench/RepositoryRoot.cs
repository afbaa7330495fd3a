namespace ArgoHooks.Demo.Bench;

internal static class RepositoryRoot
{
    /// <summary>The folder holding ArgoHooks.sln, looked for upwards from the working directory and from this program.</summary>
    public static string Find(string? given)
    {
        if (given is not null)
        {
            return File.Exists(Path.Combine(given, "ArgoHooks.sln"))
                ? given
                : throw new ArgumentException($"--repository {given} does not hold ArgoHooks.sln.", nameof(given));
        }

        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "ArgoHooks.sln")))
                {
                    return folder.FullName;
                }
            }
        }

        throw new InvalidOperationException("The repository (ArgoHooks.sln) was not found above the working directory; run from the repository or pass --repository.");
    }
}
