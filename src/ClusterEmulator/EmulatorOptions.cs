namespace ArgoHooks.ClusterEmulator;

/// <summary>Start-up settings of an <see cref="EmulatedCluster"/>. Validated by <see cref="EmulatedCluster.StartAsync"/>.</summary>
public sealed class EmulatorOptions
{
    /// <summary>How long a simulated predictor container takes from pod creation to looking for its model and listening (default 2 s).</summary>
    public TimeSpan PredictorStartupDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Default Deployment progress deadline (a Deployment's <c>spec.progressDeadlineSeconds</c> wins). Default 600 s.</summary>
    public TimeSpan ProgressDeadline { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>Delay before a crashed model-server container is restarted (the kubelet's CrashLoopBackOff; real: 10 s doubling).</summary>
    public TimeSpan CrashLoopBackOff { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a deleted pod stays visible as Terminating (deletionTimestamp set, not Ready, server stopped) before it is removed. Zero removes at once.</summary>
    public TimeSpan PodTerminationGracePeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>When true the KServe controller rewrites a Deployment's pod template back to what the InferenceService says, undoing <c>kubectl rollout restart</c>.</summary>
    public bool KServeRevertsRolloutRestart { get; set; }

    /// <summary>
    /// Real KServe copies an InferenceService's <c>metadata.annotations</c> (minus <see cref="ServiceAnnotationDisallowedList"/>)
    /// into the predictor's pod template, so changing any of them rolls the predictor (raw) or makes a new revision
    /// (Knative). Off by default until the hook service's annotations are accounted for (see docs/emulator.md).
    /// </summary>
    public bool KServePropagatesInferenceServiceAnnotations { get; set; }

    /// <summary>KServe's <c>serviceAnnotationDisallowedList</c>; the default is KServe's built-in list.</summary>
    public IList<string> ServiceAnnotationDisallowedList { get; set; } =
    [
        "autoscaling.knative.dev/min-scale",
        "autoscaling.knative.dev/max-scale",
        "internal.serving.kserve.io/storage-initializer-sourceuri",
        "kubectl.kubernetes.io/last-applied-configuration",
    ];

    /// <summary>Deployment mode when an InferenceService has no <c>serving.kserve.io/deploymentMode</c> annotation: RawDeployment, Standard, Serverless or Knative.</summary>
    public string DefaultDeploymentMode { get; set; } = "RawDeployment";

    /// <summary>Clock of every controller, timestamp and delay.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>How many changes the watch history keeps; resuming a watch from before it gets 410 Expired.</summary>
    public int WatchHistoryLimit { get; set; } = 10_000;

    /// <summary>Folder holding the PVC claim folders; a temp folder (deleted on dispose) when null.</summary>
    public string? ModelStorageRoot { get; set; }

    /// <summary>When true every API request needs a bearer token known to <see cref="EmulatedCluster.Access"/> and an allow rule.</summary>
    public bool RequireAuthentication { get; set; }

    /// <summary>The admin bearer token (group system:masters); random when null.</summary>
    public string? AdminToken { get; set; }

    /// <summary>Seed of the fault injector's random source.</summary>
    public int FaultSeed { get; set; } = 20_251_130;

    /// <summary>How often a watch opened with <c>allowWatchBookmarks=true</c> gets a BOOKMARK.</summary>
    public TimeSpan WatchBookmarkInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Namespaces that exist from the start (besides kube-system).</summary>
    public IList<string> Namespaces { get; set; } = ["default"];

    /// <summary>Safety-net period at which the controllers re-reconcile everything even without a change.</summary>
    public TimeSpan ControllerResyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal void Validate()
    {
        if (PredictorStartupDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PredictorStartupDelay), "EmulatorOptions.PredictorStartupDelay must not be negative.");
        if (ProgressDeadline <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ProgressDeadline), "EmulatorOptions.ProgressDeadline must be positive.");
        if (CrashLoopBackOff < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(CrashLoopBackOff), "EmulatorOptions.CrashLoopBackOff must not be negative.");
        if (PodTerminationGracePeriod < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PodTerminationGracePeriod), "EmulatorOptions.PodTerminationGracePeriod must not be negative.");
        if (WatchHistoryLimit < 1) throw new ArgumentOutOfRangeException(nameof(WatchHistoryLimit), "EmulatorOptions.WatchHistoryLimit must be at least 1.");
        if (WatchBookmarkInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(WatchBookmarkInterval), "EmulatorOptions.WatchBookmarkInterval must be positive.");
        if (ControllerResyncInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ControllerResyncInterval), "EmulatorOptions.ControllerResyncInterval must be positive.");
        if (DeploymentModes.Normalize(DefaultDeploymentMode) is null)
            throw new ArgumentException($"EmulatorOptions.DefaultDeploymentMode \"{DefaultDeploymentMode}\" is not one of RawDeployment, Standard, Serverless, Knative.", nameof(DefaultDeploymentMode));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}

internal static class DeploymentModes
{
    /// <summary>True for raw (Deployment) mode, false for Knative mode, null for an unknown name.</summary>
    public static bool? Normalize(string? mode) => mode switch
    {
        "RawDeployment" or "Standard" => true,
        "Serverless" or "Knative" => false,
        _ => null,
    };
}
