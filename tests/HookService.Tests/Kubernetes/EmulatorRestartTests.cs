using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class EmulatorRestartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PhaseRecord Restarting(InferenceServiceSnapshot isvc, string run = "run-1") =>
        new(Phases.Restarting, isvc.Generation, "Restarting the predictor so it loads the new model.", run);

    private static async Task<HashSet<string>> PodNamesAsync(EmulatorHarness h, string isvc) =>
        (await h.Client.CoreV1.ListNamespacedPodAsync(EmulatorHarness.Namespace, labelSelector: PredictorNames.PodSelector(isvc), cancellationToken: Ct))
            .Items.Where(p => p.Metadata.DeletionTimestamp is null).Select(p => p.Metadata.Name).ToHashSet();

    [Fact]
    public async Task Default_strategy_restarts_once_bumps_generation_and_rolls_out()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var before = await h.CreateReadyAsync("m");
        var oldPods = await PodNamesAsync(h, "m");
        var restarter = h.Get<IPredictorRestarter>();

        var ticket = await restarter.RestartAsync(before, Restarting(before), Ct);
        var rollout = await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal("inferenceservice", restarter.Strategy);
        Assert.Equal(before.Generation + 1, ticket.After.Generation);
        Assert.Equal(ticket.RestartedAt, ticket.After.RestartedAt);
        Assert.Equal("Restarting", ticket.After.Annotation(ContractAnnotations.Phase));
        Assert.Equal((before.Generation + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), ticket.After.Annotation(ContractAnnotations.Generation));
        Assert.Equal(RolloutResult.Complete, rollout.Result);
        var pods = await h.Pods.ListAsync(ticket.After, Ct);
        Assert.NotEmpty(pods);
        Assert.All(pods, pod => Assert.Equal(ticket.RestartedAt, pod.RestartedAt));
        Assert.Empty(oldPods.Intersect(pods.Select(p => p.Name)));
        Assert.Equal(1, h.Cluster.Requests.Count("patch", "inferenceservices", EmulatorHarness.Namespace));
        // Watches, not polling: each of the two waits (first rollout, restart) opens a watch whose first event is the
        // Deployment's current state, so no GET is needed at all.
        Assert.Equal(0, h.Cluster.Requests.Count("get", "deployments", EmulatorHarness.Namespace));
        Assert.InRange(h.Cluster.Requests.Count("watch", "deployments", EmulatorHarness.Namespace), 1, 4);
    }

    [Fact]
    public async Task Of_two_concurrent_restarts_from_the_same_read_exactly_one_wins()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var before = await h.CreateReadyAsync("m");
        var restarter = h.Get<IPredictorRestarter>();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 2).Select(async Task<(RestartTicket? Ticket, Exception? Error)> (int i) =>
        {
            try
            {
                return (await restarter.RestartAsync(before, Restarting(before, $"run-{i}"), Ct), null);
            }
            catch (ConcurrentChangeException error)
            {
                return (null, error);
            }
        }));

        Assert.Single(attempts, a => a.Ticket is not null);
        Assert.Single(attempts, a => a.Error is ConcurrentChangeException);
        var after = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        Assert.Equal(before.Generation + 1, after.Generation);
        Assert.Equal(attempts.Single(a => a.Ticket is not null).Ticket!.RestartedAt, after.RestartedAt);
    }

    [Fact]
    public async Task Deployment_strategy_patches_the_pod_template_like_kubectl_rollout_restart()
    {
        await using var h = await EmulatorHarness.StartAsync(RestartStrategies.Deployment);
        var before = await h.CreateReadyAsync("m");
        var oldPods = await PodNamesAsync(h, "m");

        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);
        var rollout = await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(RolloutResult.Complete, rollout.Result);
        Assert.Equal(before.Generation, ticket.After.Generation);
        Assert.Equal(before.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture), ticket.After.Annotation(ContractAnnotations.Generation));
        var deployment = await h.Client.AppsV1.ReadNamespacedDeploymentAsync("m-predictor", EmulatorHarness.Namespace, cancellationToken: Ct);
        Assert.Equal(ticket.RestartedAt, deployment.Spec.Template.Metadata.Annotations[RestartSupport.KubectlRestartedAt]);
        Assert.Empty(oldPods.Intersect(await PodNamesAsync(h, "m")));
        Assert.Equal(1, h.Cluster.Requests.Count("patch", "deployments", EmulatorHarness.Namespace));
    }

    [Fact]
    public async Task A_reverted_rollout_restart_fails_instead_of_waiting_forever()
    {
        await using var h = await EmulatorHarness.StartAsync(RestartStrategies.Deployment, emulator: o => o.KServeRevertsRolloutRestart = true);
        var before = await h.CreateReadyAsync("m");

        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);
        var rollout = await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(RolloutResult.Failed, rollout.Result);
        Assert.Equal(RolloutWatcher.RestartReverted, rollout.Reason);
    }

    [Fact]
    public async Task Delete_pods_strategy_replaces_every_pod_once()
    {
        await using var h = await EmulatorHarness.StartAsync(RestartStrategies.DeletePods);
        var before = await h.CreateReadyAsync("m");
        var oldPods = await PodNamesAsync(h, "m");

        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);
        var rollout = await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(RolloutResult.Complete, rollout.Result);
        Assert.Equal(oldPods.Count, h.Cluster.Requests.Count("delete", "pods", EmulatorHarness.Namespace));
        var newPods = await h.Pods.ListAsync(ticket.After, Ct);
        Assert.True(oldPods.Count == newPods.Count, $"old [{string.Join(", ", oldPods)}] new [{string.Join(", ", newPods.Select(p => p.Name + (p.Ready ? "" : " (not ready)")))}]; {rollout.Message}");
        Assert.Empty(oldPods.Intersect(newPods.Select(p => p.Name)));
        Assert.Equal(before.Generation, (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!.Generation);
    }

    [Theory]
    [InlineData(RestartStrategies.InferenceService)]
    [InlineData(RestartStrategies.Deployment)]
    [InlineData(RestartStrategies.DeletePods)]
    public async Task Knative_mode_restarts_with_a_new_revision_whatever_the_strategy(string strategy)
    {
        await using var h = await EmulatorHarness.StartAsync(strategy);
        var before = await h.CreateReadyAsync("kn", "Serverless");

        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);
        var rollout = await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct);
        var after = (await h.Store.GetAsync(EmulatorHarness.Namespace, "kn", Ct))!;

        Assert.Equal(RolloutResult.Complete, rollout.Result);
        Assert.Equal(ticket.RestartedAt, after.RestartedAt);
        Assert.True(RolloutWatcher.IsNewerRevision(after.LatestReadyRevision, before.LatestReadyRevision!), $"{after.LatestReadyRevision} after {before.LatestReadyRevision}");
        var pods = await h.Pods.ListAsync(after, Ct);
        Assert.NotEmpty(pods);
        Assert.All(pods, p => Assert.Equal(ticket.RestartedAt, p.RestartedAt));
        Assert.Equal(0, h.Cluster.Requests.Count("delete", "pods", EmulatorHarness.Namespace));
    }
}
