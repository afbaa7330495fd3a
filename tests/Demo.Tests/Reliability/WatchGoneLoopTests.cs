using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Bench;
using ArgoHooks.Demo.Scenario;

namespace ArgoHooks.Demo.Tests.Reliability;

/// <summary>
/// Regression test for a bug the watch-cuts scenario found in the rollout wait (fixed in 3c5378b): after 410 Gone it
/// re-read the Deployment with GET and watched again from that object's resourceVersion, with no delay. When the
/// object has not changed since the server's watch window was compacted (a real API server's watch cache does the
/// same for an object unchanged longer than its window), that resourceVersion is too old again at once: GET + WATCH
/// repeated in a tight loop (1,576 requests in this second) until the object changed. A client that resumes from a
/// current resourceVersion, or backs off on repeated 410, makes a handful of requests here.
/// </summary>
public sealed class WatchGoneLoopTests
{
    [Fact]
    public async Task After_a_compaction_and_a_cut_an_unchanged_deployment_is_not_re_watched_in_a_tight_loop()
    {
        var ct = TestContext.Current.CancellationToken;
        const string ns = "gone-loop";
        await using var environment = await HookServiceUnderTest.StartAsync(ns, "models",
            new EmulatorOptions { PredictorStartupDelay = TimeSpan.FromMilliseconds(300), Namespaces = [ns] },
            new Dictionary<string, string>
            {
                ["ArgoHooks:Artifacts:SettleInterval"] = "00:00:00.200",
                ["ArgoHooks:Artifacts:PollInterval"] = "00:00:00.050",
                ["Logging:LogLevel:Default"] = "Error",
            },
            ct);
        var cluster = environment.Cluster;
        var fleet = Fleet.Numbered(ns, "models", 1);
        await fleet.CreateAsync(cluster, TimeSpan.FromSeconds(30), ct);
        await using var witness = new ClusterWitness(cluster, ns, TimeProvider.System, TimeProvider.System.GetTimestamp());
        var call = Contenders.CallAsync(environment.BaseAddress, environment.TokenFile, fleet, "gone-loop", ct);
        await Fleet.WriteOneAsync(fleet.ArtifactPath(cluster, fleet.Names[0]), Fleet.ModelBytes(fleet.Names[0], 1), 1, TimeSpan.Zero, TimeProvider.System, ct);

        // The rollout wait is watching the Deployment; freeze the cluster so that nothing changes any more.
        await cluster.WaitUntilAsync(_ => witness.Phase(fleet.Names[0]) == "Restarting" && cluster.Requests.Count("watch", "deployments", ns) > 0, TimeSpan.FromSeconds(30), ct);
        cluster.Controllers.Paused = true;
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, ct);
        var before = cluster.Requests.Count("watch", "deployments", ns) + cluster.Requests.Count("get", "deployments", ns);
        cluster.Faults.CompactHistory();
        cluster.Faults.CutWatches(); // the open stream ends (a server timeout or a cut); the client must resume
        await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, ct);
        var requests = cluster.Requests.Count("watch", "deployments", ns) + cluster.Requests.Count("get", "deployments", ns) - before;

        cluster.Controllers.Paused = false;
        Assert.Equal(0, await call);
        Assert.True(requests <= 10, $"{requests} GET/WATCH requests on the unchanged Deployment within 1 s after one compaction and one cut (a tight 410 loop)");
    }
}
