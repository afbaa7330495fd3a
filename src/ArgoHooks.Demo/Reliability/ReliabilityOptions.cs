namespace ArgoHooks.Demo.Reliability;

/// <summary>The knobs of `argohooks-demo reliability`; <see cref="Quick"/> is what the tests run.</summary>
public sealed class ReliabilityOptions
{
    public const string Namespace = "reliability";
    public const string Claim = "models";

    /// <summary>InferenceServices in the fault, kill, duplicate-caller and watch scenarios.</summary>
    public int InferenceServices { get; init; } = 5;

    public TimeSpan PredictorStartupDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>ArgoHooks:Artifacts:SettleInterval of the service under test.</summary>
    public TimeSpan SettleInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Share of API requests that fail in the fault scenario.</summary>
    public double FaultRate { get; init; } = 0.2;

    /// <summary>Seed of the emulator's fault injector (which requests fail); null = the emulator's default.</summary>
    public int? FaultSeed { get; init; }

    /// <summary>How long the growing artifact keeps growing.</summary>
    public TimeSpan GrowDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Artifact timeout of the run whose artifact never appears (whole seconds, at least 1).</summary>
    public int ArtifactTimeoutSeconds { get; init; } = 10;

    /// <summary>Deployment progress deadline in the never-ready scenario.</summary>
    public TimeSpan ProgressDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long the hook service stays down in the kill scenario.</summary>
    public TimeSpan Downtime { get; init; } = TimeSpan.FromSeconds(2);

    public int LoadRunsPerMinute { get; init; } = 200;

    public TimeSpan LoadDuration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>InferenceServices the load runs go round-robin over.</summary>
    public int LoadInferenceServices { get; init; } = 10;

    /// <summary>Bound on each scenario.</summary>
    public TimeSpan ScenarioTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Only these scenarios (by name); all when empty.</summary>
    public IReadOnlyList<string> Only { get; init; } = [];

    public static ReliabilityOptions Quick => new()
    {
        InferenceServices = 3,
        PredictorStartupDelay = TimeSpan.FromMilliseconds(300),
        SettleInterval = TimeSpan.FromMilliseconds(300),
        PollInterval = TimeSpan.FromMilliseconds(50),
        GrowDuration = TimeSpan.FromSeconds(2),
        ArtifactTimeoutSeconds = 2,
        ProgressDeadline = TimeSpan.FromSeconds(2),
        Downtime = TimeSpan.FromMilliseconds(500),
        LoadDuration = TimeSpan.FromSeconds(10),
        LoadInferenceServices = 4,
        ScenarioTimeout = TimeSpan.FromSeconds(90),
    };

    public void Validate()
    {
        if (InferenceServices is < 1 or > 100 || LoadInferenceServices is < 1 or > 100)
        {
            throw new ArgumentException("--inference-services must be from 1 to 100.", nameof(InferenceServices));
        }

        if (FaultRate is < 0 or > 0.9)
        {
            throw new ArgumentException("--fault-rate must be from 0 to 0.9.", nameof(FaultRate));
        }

        if (ArtifactTimeoutSeconds < 1 || LoadRunsPerMinute < 1 || LoadDuration <= TimeSpan.Zero || GrowDuration < TimeSpan.Zero)
        {
            throw new ArgumentException("--artifact-timeout, --load-rate and --load-duration must be positive.", nameof(ArtifactTimeoutSeconds));
        }
    }
}
