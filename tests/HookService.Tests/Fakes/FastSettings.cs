using ArgoHooks.ClusterEmulator;

namespace ArgoHooks.HookService.Tests.Fakes;

/// <summary>
/// The hook service's configuration for tests on the emulator: the product's own option keys, with every wait,
/// retry and timeout short so that a test takes seconds. One place, so fixtures cannot drift apart.
/// </summary>
public static class FastSettings
{
    /// <summary>The Kubernetes adapters, pointed at the emulator as its admin.</summary>
    public static Dictionary<string, string> Kubernetes(EmulatedCluster cluster) => new(StringComparer.Ordinal)
    {
        ["ArgoHooks:Kubernetes:Host"] = cluster.BaseAddress.ToString(),
        ["ArgoHooks:Kubernetes:Token"] = cluster.AdminToken,
        ["ArgoHooks:Kubernetes:RetryBaseDelay"] = "00:00:00.010",
        ["ArgoHooks:Kubernetes:MaxRetryAfter"] = "00:00:00.050",
        ["ArgoHooks:Kubernetes:MaxRetries"] = "10",
        ["ArgoHooks:Kubernetes:RequestTimeout"] = "00:00:05",
        ["ArgoHooks:Kubernetes:OperationTimeout"] = "00:00:20",
        ["ArgoHooks:Kubernetes:WatchTimeout"] = "00:00:05",
        ["ArgoHooks:Kubernetes:WatchReconnectDelay"] = "00:00:00.050",
    };

    /// <summary>The whole service: the adapters plus the claim root, the artifact wait and the run timeouts.</summary>
    public static Dictionary<string, string> Service(EmulatedCluster cluster)
    {
        var settings = Kubernetes(cluster);
        settings["ArgoHooks:Artifacts:ClaimsRoot"] = cluster.Storage.Root;
        settings["ArgoHooks:Artifacts:SettleInterval"] = "00:00:00.200";
        settings["ArgoHooks:Artifacts:PollInterval"] = "00:00:00.025";
        settings["ArgoHooks:Runs:ArtifactTimeout"] = "00:00:20";
        settings["ArgoHooks:Runs:RolloutTimeout"] = "00:00:20";
        settings["ArgoHooks:Runs:VerifyTimeout"] = "00:00:10";
        settings["ArgoHooks:Runs:VerifyRetryInterval"] = "00:00:00.050";
        settings["ArgoHooks:Runs:MaxWaitSeconds"] = "600";
        settings["Logging:LogLevel:Default"] = "Warning";
        return settings;
    }
}
