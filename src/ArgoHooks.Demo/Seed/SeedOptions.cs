namespace ArgoHooks.Demo.Seed;

/// <summary>The knobs of the seed scenario; the defaults replay the seed's GitOps layout at a watchable pace.</summary>
public sealed class SeedOptions
{
    public const string Namespace = "self-healing-platform";
    public const string Claim = "model-storage-pvc";
    public static readonly IReadOnlyList<string> InferenceServices = ["anomaly-detector", "predictive-analytics"];

    /// <summary>How long a simulated sklearn server takes from pod start to listening (when it looks for its model, once).</summary>
    public TimeSpan PredictorStartupDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Wave 3: when the anomaly-detector model is written, after the wave starts.</summary>
    public TimeSpan FirstModelAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Wave 3: predictive-analytics' model is written slowly, in chunks, over this long.</summary>
    public TimeSpan SecondModelWriteDuration { get; init; } = TimeSpan.FromSeconds(4);

    public int SecondModelChunks { get; init; } = 8;

    /// <summary>How long the hook service waits for a file to stay unchanged before it trusts it.</summary>
    public TimeSpan SettleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>"RawDeployment" or "Serverless".</summary>
    public string DeploymentMode { get; init; } = "RawDeployment";

    /// <summary>"inferenceservice", "deployment" or "delete-pods".</summary>
    public string RestartStrategy { get; init; } = "inferenceservice";

    /// <summary>The argohooks.io/gate the InferenceServices carry: "deferred" (the seed) or "strict".</summary>
    public string Gate { get; init; } = "deferred";

    /// <summary>How long a wave may stay unhealthy before the scenario calls the sync stuck.</summary>
    public TimeSpan WaveTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Bound on the whole scenario.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(3);
}
