using System.ComponentModel.DataAnnotations;

namespace ArgoHooks.HookService.Runs;

/// <summary>ArgoHooks:Runs — bounds and timeouts of runs.</summary>
public sealed class RunOptions
{
    public const string Section = "ArgoHooks:Runs";

    /// <summary>
    /// InferenceServices restarting, rolling out or verifying at the same time, across all runs. Artifact waits are
    /// not bounded: they only poll files, and a slow writer must not hold up InferenceServices whose files are ready.
    /// </summary>
    [Range(1, 256)]
    public int MaxParallelInferenceServices { get; set; } = 32;

    /// <summary>Default artifact wait when the request does not say (artifactTimeoutSeconds).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ArtifactTimeout { get; set; } = TimeSpan.FromMinutes(30);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan RolloutTimeout { get; set; } = TimeSpan.FromMinutes(10);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan VerifyTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Pause between two rounds of model probes while verifying.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:05:00")]
    public TimeSpan VerifyRetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Upper bound of GET /v1/runs/{id}?waitSeconds=N.</summary>
    [Range(0, 3600)]
    public int MaxWaitSeconds { get; set; } = 60;

    /// <summary>Finished runs kept in memory at most (the oldest are forgotten first).</summary>
    [Range(1, 100_000)]
    public int MaxRetainedRuns { get; set; } = 1000;

    /// <summary>Finished runs are forgotten after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan RunRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Restart attempts when the InferenceService keeps changing underneath (HTTP 409) before giving up.</summary>
    [Range(1, 100)]
    public int MaxRestartAttempts { get; set; } = 5;
}
