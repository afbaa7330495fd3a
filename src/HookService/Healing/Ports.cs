namespace ArgoHooks.HookService.Healing;

// The narrow interfaces the restart/verify algorithm (Healing/) is written against.
// Kubernetes/ and Predictors/ implement them over IKubernetes and HTTP; Artifacts/ over the
// mounted PVCs; tests may fake them. Keep them small: each says one thing the algorithm needs.

/// <summary>What the algorithm needs to know about one InferenceService, read in one GET.</summary>
/// <param name="DeploymentMode">Normalised: "RawDeployment", "Serverless" or "ModelMesh"
/// (from status.deploymentMode, else the serving.kserve.io/deploymentMode annotation, else "Serverless" as KServe's default).</param>
/// <param name="StorageUri">spec.predictor.model.storageUri, else spec.predictor.&lt;framework&gt;.storageUri; null when none.</param>
/// <param name="ModelName">argohooks.io/model-name, else the InferenceService name.</param>
/// <param name="RestartedAt">spec.predictor.annotations["argohooks.io/restarted-at"], when set.</param>
public sealed record InferenceServiceSnapshot(
    string Namespace,
    string Name,
    string Uid,
    long Generation,
    string ResourceVersion,
    IReadOnlyDictionary<string, string> Annotations,
    string DeploymentMode,
    string? StorageUri,
    string ModelName,
    string? RestartedAt,
    string? LatestCreatedRevision,
    string? LatestReadyRevision)
{
    public string? Annotation(string key) => Annotations.TryGetValue(key, out var value) ? value : null;
}

/// <summary>The contract annotations of design.md, written together at every phase change.</summary>
public sealed record PhaseRecord(
    string Phase,
    long Generation,
    string Message,
    string RunId,
    string? ArtifactDigest = null,
    DateTimeOffset? VerifiedAt = null);

public static class Phases
{
    public const string AwaitingArtifact = "AwaitingArtifact";
    public const string Restarting = "Restarting";
    public const string Verifying = "Verifying";
    public const string Verified = "Verified";
    public const string Failed = "Failed";
}

public static class ContractAnnotations
{
    public const string Gate = "argohooks.io/gate";
    public const string ModelName = "argohooks.io/model-name";
    public const string Phase = "argohooks.io/phase";
    public const string Generation = "argohooks.io/generation";
    public const string Message = "argohooks.io/message";
    public const string ArtifactDigest = "argohooks.io/artifact-digest";
    public const string VerifiedAt = "argohooks.io/verified-at";
    public const string Run = "argohooks.io/run";
    /// <summary>The keys the hook service writes on metadata.annotations (the ones KServe must not copy into pods).</summary>
    public static readonly IReadOnlyList<string> WrittenByHookService = [Phase, Generation, Message, ArtifactDigest, VerifiedAt, Run];

    /// <summary>Set under spec.predictor.annotations by the default restart strategy.</summary>
    public const string RestartedAt = "argohooks.io/restarted-at";
    /// <summary>Optional: file name (relative to the storageUri folder) to wait for instead of the sklearn rule.</summary>
    public const string Artifact = "argohooks.io/artifact";
    /// <summary>Optional: a JSON body for one smoke POST /v1/models/&lt;name&gt;:predict after the probe passes.</summary>
    public const string SmokeRequest = "argohooks.io/smoke-request";
    /// <summary>Optional: "continuous" opts an InferenceService into continuous verification.</summary>
    public const string Verify = "argohooks.io/verify";
}

/// <summary>Reads InferenceServices and records phases (annotations + a Kubernetes Event) on them.</summary>
public interface IInferenceServiceStore
{
    /// <returns>null when the InferenceService does not exist (404).</returns>
    Task<InferenceServiceSnapshot?> GetAsync(string @namespace, string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<InferenceServiceSnapshot>> ListAsync(string @namespace, CancellationToken cancellationToken);

    /// <summary>
    /// Merge-patches only the contract annotations ArgoHooks owns (fieldManager "argohooks") and emits an Event
    /// (Normal, or Warning for Failed) on the InferenceService. Returns the object as written.
    /// </summary>
    Task<InferenceServiceSnapshot> RecordPhaseAsync(InferenceServiceSnapshot current, PhaseRecord record, CancellationToken cancellationToken);
}

/// <summary>One restart strategy: "inferenceservice" (default), "deployment" or "delete-pods".</summary>
public interface IPredictorRestarter
{
    string Strategy { get; }

    /// <summary>
    /// Restarts the predictor and records phase Restarting in the same step where the strategy allows
    /// (the default strategy writes spec.predictor.annotations and the contract annotations in one patch,
    /// guarded by <paramref name="current"/>'s resourceVersion, so two callers never both restart).
    /// Throws <see cref="ConcurrentChangeException"/> when the object changed underneath (HTTP 409): re-read and decide again.
    /// </summary>
    Task<RestartTicket> RestartAsync(InferenceServiceSnapshot current, PhaseRecord restarting, CancellationToken cancellationToken);
}

/// <summary>What a restart changed, so the rollout wait knows which pods are the new ones.</summary>
/// <param name="After">The InferenceService as the restart left it.</param>
/// <param name="RestartedAt">The value written, or the time pods were deleted.</param>
public sealed record RestartTicket(InferenceServiceSnapshot After, string RestartedAt);

public sealed class ConcurrentChangeException(string message) : Exception(message);

public enum RolloutResult { Complete, Failed, TimedOut }

/// <param name="Reason">e.g. ProgressDeadlineExceeded, RevisionFailed; null when complete.</param>
public sealed record RolloutOutcome(RolloutResult Result, string? Reason, string Message);

/// <summary>Waits like `kubectl rollout status` (raw) or for latestCreatedRevision == latestReadyRevision (Knative).</summary>
public interface IRolloutWatcher
{
    Task<RolloutOutcome> WaitAsync(InferenceServiceSnapshot isvc, RestartTicket? restart, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <param name="Endpoint">http://podIP:containerPort of kserve-container (8080 by default).</param>
/// <param name="StartedAt">kserve-container's state.running.startedAt: a model server loads its model once, at this moment.</param>
/// <param name="RestartedAt">The pod template's argohooks.io/restarted-at (or kubectl.kubernetes.io/restartedAt), if any.</param>
public sealed record PredictorPod(string Name, string Uid, Uri Endpoint, bool Ready, DateTimeOffset? StartedAt, string? RestartedAt);

public interface IPredictorPods
{
    /// <summary>The predictor pods that currently back the InferenceService (current revision in Knative mode), not terminating.</summary>
    Task<IReadOnlyList<PredictorPod>> ListAsync(InferenceServiceSnapshot isvc, CancellationToken cancellationToken);
}

/// <param name="StatusCode">HTTP status of the model probe, null when the pod did not answer.</param>
/// <param name="Detail">The model server's own words (its "error" field), or the transport error.</param>
public sealed record ProbeResult(bool Ready, int? StatusCode, string Detail);

/// <summary>The model server's own probe: GET /v1/models/&lt;name&gt;, falling back to /v2/models/&lt;name&gt;/ready. Never /v2/health/ready.</summary>
public interface IModelProbe
{
    Task<ProbeResult> ProbeAsync(PredictorPod pod, string modelName, CancellationToken cancellationToken);

    /// <summary>One POST /v1/models/&lt;name&gt;:predict with the given JSON body.</summary>
    Task<ProbeResult> PredictAsync(PredictorPod pod, string modelName, string requestJson, CancellationToken cancellationToken);
}
