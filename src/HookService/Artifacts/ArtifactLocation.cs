using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Artifacts;

/// <summary>A <c>pvc://claim/path</c> storageUri resolved to a folder (or file) under the claim's mount.</summary>
/// <param name="ClaimRoot">The claim's mount folder, as the real (symlink-free) path.</param>
/// <param name="Target">ClaimRoot joined with the URI's path (not yet resolved: it may not exist yet).</param>
public sealed record ArtifactLocation(string StorageUri, string Claim, string SubPath, string ClaimRoot, string Target);

/// <summary>Either a location or one sentence saying what is wrong and what to fix.</summary>
public sealed record ArtifactLocationResult(ArtifactLocation? Location, string? Error)
{
    public static ArtifactLocationResult Fail(string error) => new(null, error);
}

/// <summary>Resolves storageUris to folders under the mounted claims, refusing anything that escapes them.</summary>
public sealed partial class StorageUriResolver(IOptionsMonitor<ArtifactOptions> options)
{
    private const string PvcScheme = "pvc://";

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Subdomain();

    public ArtifactLocationResult Resolve(string? storageUri)
    {
        if (string.IsNullOrEmpty(storageUri))
        {
            return ArtifactLocationResult.Fail(
                "The InferenceService has no storageUri; set spec.predictor.model.storageUri to pvc://<claim>/<path> so the hook service knows which artifact to wait for.");
        }

        if (!storageUri.StartsWith(PvcScheme, StringComparison.Ordinal))
        {
            return ArtifactLocationResult.Fail(
                $"The storageUri {storageUri} is not a pvc:// URI; the hook service only waits for artifacts on PVCs, so use pvc://<claim>/<path> or leave this InferenceService out of the run.");
        }

        var rest = storageUri[PvcScheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var claim = slash < 0 ? rest : rest[..slash];
        var subPath = slash < 0 ? "" : rest[(slash + 1)..].TrimEnd('/');
        if (claim.Length is 0 or > 253 || !Dns1123Subdomain().IsMatch(claim))
        {
            return ArtifactLocationResult.Fail(
                $"The storageUri {storageUri} does not name a valid PVC; use pvc://<claim>/<path> with the claim's Kubernetes name.");
        }

        if (!IsSafeRelativePath(subPath))
        {
            return ArtifactLocationResult.Fail(
                $"The path in storageUri {storageUri} is absolute or leaves the claim (.., backslashes or control characters); use a plain relative path inside the PVC.");
        }

        var settings = options.CurrentValue;
        var configuredRoot = settings.Claims.TryGetValue(claim, out var explicitRoot) && !string.IsNullOrWhiteSpace(explicitRoot)
            ? explicitRoot
            : Path.Combine(settings.ClaimsRoot, claim);
        if (!Directory.Exists(configuredRoot))
        {
            return ArtifactLocationResult.Fail(
                $"The PVC {claim} is not mounted into the hook service (expected at {configuredRoot}); mount it read-only there or set ArgoHooks:Artifacts:Claims:{claim}.");
        }

        var root = RealPath(configuredRoot) ?? Path.GetFullPath(configuredRoot);
        var target = subPath.Length == 0 ? root : Path.GetFullPath(Path.Combine(root, subPath));
        if (!IsInside(root, target))
        {
            return ArtifactLocationResult.Fail(
                $"The path in storageUri {storageUri} leaves the PVC; use a plain relative path inside the claim.");
        }

        return new ArtifactLocationResult(new ArtifactLocation(storageUri, claim, subPath, root, target), null);
    }

    /// <summary>True when <paramref name="path"/> exists and its real path (every symlink resolved) stays under the claim root.</summary>
    public static bool ResolvesInside(ArtifactLocation location, string path) =>
        RealPath(path) is { } real && IsInside(location.ClaimRoot, real);

    internal static bool IsSafeRelativePath(string path)
    {
        if (path.Length == 0)
        {
            return true;
        }

        if (path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal) || path.Any(char.IsControl))
        {
            return false;
        }

        return path.Split('/').All(segment => segment is not ("" or "." or ".."));
    }

    internal static bool IsInside(string root, string candidate) =>
        candidate == root || candidate.StartsWith(root.TrimEnd('/') + "/", StringComparison.Ordinal);

    /// <summary>realpath(3): the canonical absolute path with every symlink resolved, or null when it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var resolved = NativeRealPath(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            NativeFree(resolved);
        }
    }

    [DllImport("libc", EntryPoint = "realpath", CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    private static extern IntPtr NativeRealPath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void NativeFree(IntPtr pointer);
}
