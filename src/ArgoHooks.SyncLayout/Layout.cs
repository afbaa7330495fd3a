namespace ArgoHooks.SyncLayout;

/// <summary>A resource of the rendered manifests and where Argo CD places it in a sync.</summary>
public sealed record PlacedResource(
    string ApiVersion,
    string Kind,
    string Name,
    string Namespace,
    string Source,
    long Line,
    IReadOnlyDictionary<string, string> Annotations,
    Placement Placement)
{
    /// <summary>"Job/write-model" — how findings name a resource.</summary>
    public string Display => $"{Kind}/{Name}";

    /// <summary>The steps of a successful sync (SyncFail hooks run only after a failure).</summary>
    public IReadOnlyList<SyncStep> Steps => Placement.Steps.Where(step => step.Phase != SyncPhase.SyncFail).ToList();

    public bool IsApplied => Steps.Count > 0;

    /// <summary>Resources of a rendered application without a namespace land in the Application's destination namespace.</summary>
    public bool SharesNamespaceWith(string other) => Namespace.Length == 0 || other.Length == 0 || Namespace == other;
}

public enum Gate
{
    Deferred,
    Strict,

    /// <summary>Any other value: the health script treats it as deferred.</summary>
    Unknown,
}

/// <summary>An InferenceService whose model comes from a PVC (<c>pvc://claim/path</c>).</summary>
/// <param name="GateText">The annotation's text, null when absent (default deferred).</param>
/// <param name="ModelMesh">ModelMesh loads models itself; no gate applies.</param>
/// <param name="Continuous">argohooks.io/verify: continuous — the hook service verifies it without a Job.</param>
public sealed record ModelService(PlacedResource Resource, string StorageUri, string Claim, string ModelPath, Gate Gate, string? GateText, bool ModelMesh, bool Continuous)
{
    public SyncStep Step => Resource.Steps[0];

    /// <summary>The gate the health script applies: unknown values count as deferred.</summary>
    public bool IsStrict => Gate == Gate.Strict;
}

/// <summary>A volume mount of a pod template that reaches a PVC.</summary>
public sealed record ClaimMount(string Claim, string Container, string MountPath, bool Writable);

/// <summary>A workload with a pod template (Pod, Job, Deployment, StatefulSet...); CronJobs are left out (they run on a schedule, not in the sync).</summary>
public sealed record PodWorkload(PlacedResource Resource, IReadOnlyList<ClaimMount> ClaimMounts)
{
    public bool Writes(string claim) => ClaimMounts.Any(mount => mount.Writable && mount.Claim == claim);
}

/// <summary>A projected serviceAccountToken source and where the verification container sees it.</summary>
/// <param name="Audience">Null when unset: the token is then for the API server, which the hook service rejects.</param>
/// <param name="FilesInContainer">The token file's paths inside the call container (empty when that container does not mount it).</param>
public sealed record ProjectedToken(string Volume, string? Audience, string Path, IReadOnlyList<string> FilesInContainer);

/// <summary>A Job that runs <c>argohooks call</c>.</summary>
/// <param name="TargetNamespace">The --namespace it passes, or the Job's own namespace when that is an env reference such as $(POD_NAMESPACE).</param>
/// <param name="InferenceServices">Its --inference-service names; empty = every InferenceService of the namespace with a pvc:// storageUri.</param>
/// <param name="TokenFile">Where `call` reads its token (--token-file, ARGOHOOKS_TOKEN_FILE, default); null when set from a reference the check cannot resolve.</param>
public sealed record VerificationJob(
    PlacedResource Resource,
    string Container,
    string TargetNamespace,
    IReadOnlyList<string> InferenceServices,
    string? TokenFile,
    string TokenFileOrigin,
    IReadOnlyList<ProjectedToken> Tokens)
{
    public bool Covers(ModelService service) =>
        (TargetNamespace.Length == 0 || service.Resource.SharesNamespaceWith(TargetNamespace))
        && (InferenceServices.Count == 0 || InferenceServices.Contains(service.Resource.Name, StringComparer.Ordinal));
}

/// <summary>The hook service itself (`argohooks serve`), when the rendered manifests include it.</summary>
/// <param name="ClaimsRoot">ArgoHooks:Artifacts:ClaimsRoot; null when set from a reference the check cannot resolve.</param>
/// <param name="ClaimFolders">ArgoHooks:Artifacts:Claims:&lt;claim&gt; overrides set as literal env values.</param>
public sealed record HookServiceWorkload(PlacedResource Resource, string Container, string? ClaimsRoot, IReadOnlyDictionary<string, string> ClaimFolders, IReadOnlyList<ClaimMount> Mounts)
{
    /// <summary>Where the service looks for a claim's files, as StorageUriResolver does; null when unknown.</summary>
    public string? FolderOf(string claim) =>
        ClaimFolders.TryGetValue(claim, out var folder) ? folder : ClaimsRoot is null ? null : ClaimsRoot.TrimEnd('/') + "/" + claim;
}

/// <summary>The rendered application as Argo CD would sync it.</summary>
public sealed record ManifestLayout(
    IReadOnlyList<PlacedResource> Resources,
    IReadOnlyList<ModelService> InferenceServices,
    IReadOnlyList<PodWorkload> Workloads,
    IReadOnlyList<VerificationJob> VerificationJobs,
    IReadOnlyList<HookServiceWorkload> HookServices)
{
    /// <summary>The last step of a successful sync, if anything is applied.</summary>
    public SyncStep? FinalStep => Resources.SelectMany(resource => resource.Steps).Select(step => (SyncStep?)step).Max();

    /// <summary>
    /// Argo CD waits at a step until its resources are Healthy (hooks: completed) — except at the final step when it holds
    /// no hook: then the sync succeeds as soon as everything is applied (gitops-engine sync_context.go Sync()).
    /// </summary>
    public bool WaitsAt(SyncStep step) =>
        step != FinalStep || Resources.Any(resource => resource.Placement.IsHook && resource.Steps.Contains(step));

    /// <summary>Workloads that mount the claim writable in the service's namespace (pods can only mount claims of their own namespace).</summary>
    public IReadOnlyList<PodWorkload> WritersOf(ModelService service) =>
        Workloads.Where(workload => workload.Resource.IsApplied && workload.Writes(service.Claim)
                                    && workload.Resource.SharesNamespaceWith(service.Resource.Namespace)).ToList();

    public IReadOnlyList<VerificationJob> VerifiersOf(ModelService service) =>
        VerificationJobs.Where(job => job.Resource.IsApplied && job.Covers(service)).ToList();
}
