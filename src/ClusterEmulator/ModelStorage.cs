namespace ArgoHooks.ClusterEmulator;

/// <summary>Real folders standing in for PersistentVolumeClaims: <c>pvc://CLAIM/PATH</c> is <c>ClaimDirectory(CLAIM)/PATH</c>.</summary>
public sealed class ModelStorage : IDisposable
{
    private readonly bool _ownsRoot;

    internal ModelStorage(string? root)
    {
        _ownsRoot = root is null;
        Root = root ?? Path.Combine(Path.GetTempPath(), "argohooks-emulator-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>The folder backing a claim (created when missing).</summary>
    public string ClaimDirectory(string claim)
    {
        if (string.IsNullOrWhiteSpace(claim) || claim.Contains('/') || claim.Contains('\\') || claim is "." or "..")
            throw new ArgumentException($"claim name \"{claim}\" is not a valid PersistentVolumeClaim name", nameof(claim));
        var dir = Path.Combine(Root, claim);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Maps <c>pvc://claim/path</c> to a local path (file or folder, existing or not); null for other schemes.</summary>
    public string? Resolve(string? storageUri)
    {
        if (storageUri is null || !storageUri.StartsWith("pvc://", StringComparison.Ordinal)) return null;
        var rest = storageUri["pvc://".Length..];
        var slash = rest.IndexOf('/');
        var claim = slash < 0 ? rest : rest[..slash];
        var sub = slash < 0 ? "" : rest[(slash + 1)..].Trim('/');
        if (claim.Length == 0 || sub.Split('/').Any(s => s == "..")) return null;
        var dir = ClaimDirectory(claim);
        return sub.Length == 0 ? dir : Path.Combine(dir, sub);
    }

    public void Dispose()
    {
        if (!_ownsRoot) return;
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException e) { Console.Error.WriteLine($"cluster emulator: could not delete model storage {Root}: {e.Message}"); }
        catch (UnauthorizedAccessException e) { Console.Error.WriteLine($"cluster emulator: could not delete model storage {Root}: {e.Message}"); }
    }
}
