using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Continuous;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Runs;
using k8s;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Tests.Continuous;

/// <summary>Continuous verification against the emulated cluster through the real KubernetesClient (real watches).</summary>
public sealed class ContinuousVerificationTests
{
    private const string Model = "anomaly-detector";

    /// <summary>The predictor started before its model; continuous verification notices the file, restarts once, verifies.</summary>
    private static async Task<string> FirstVerifiedAsync(ContinuousCluster fixture, string name = Model)
    {
        await fixture.CreatePredictorBeforeModelAsync(name);
        var digest = await fixture.WriteModelAsync(name, "model v1 of " + name);
        await fixture.WaitVerifiedAsync(name, digest);
        return digest;
    }

    [Fact]
    public async Task A_retrained_model_is_restarted_once_and_verified_with_the_new_digest()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new() { ["ArgoHooks:Continuous:Namespaces:0"] = ContinuousCluster.Namespace });
        await fixture.CreatePredictorBeforeModelAsync(Model, optIn: false); // opted in by the namespace
        var first = await fixture.WriteModelAsync(Model, "model v1");
        await fixture.WaitVerifiedAsync(Model, first);
        Assert.Equal(2, fixture.PodsCreated(Model)); // the pod without a model, then one restart
        var restartedBefore = fixture.RestartedAt(Model);

        var retrained = await fixture.WriteModelAsync(Model, "model v2, retrained");
        await fixture.WaitVerifiedAsync(Model, retrained);

        Assert.Equal(3, fixture.PodsCreated(Model));
        Assert.NotEqual(restartedBefore, fixture.RestartedAt(Model));
        Assert.StartsWith("continuous-" + retrained[7..19], fixture.Annotation(Model, ContractAnnotations.Run));
        var server = Assert.Single(fixture.Cluster.ModelServers, s => s.ModelName == Model && s.State == ModelServerState.Running);
        Assert.Equal(retrained, server.LoadedModelDigest);
        Assert.Equal("Healthy", fixture.Health(Model).Status);
        var reasons = fixture.Events(Model).Select(e => e.Reason).ToList();
        Assert.Contains(Phases.Restarting, reasons);
        Assert.Contains(Phases.Verified, reasons);
    }

    [Fact]
    public async Task A_flapping_file_causes_at_most_one_restart_per_interval_and_the_suppression_is_recorded()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new() { ["ArgoHooks:Continuous:MinRestartInterval"] = "01:00:00" });
        var first = await FirstVerifiedAsync(fixture);
        Assert.Equal(2, fixture.PodsCreated(Model));

        string last = first;
        for (var version = 2; version <= 4; version++)
        {
            last = await fixture.WriteModelAsync(Model, $"flapping model v{version}");
            await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Message)?.Contains(last[..19], StringComparison.Ordinal) == true,
                $"the suppression of {last[..19]} to be recorded");
        }

        var message = fixture.Annotation(Model, ContractAnnotations.Message)!;
        Assert.Contains("the restart is suppressed until", message, StringComparison.Ordinal);
        Assert.Contains($"the predictor keeps serving {first[..19]}", message, StringComparison.Ordinal);
        Assert.Equal(2, fixture.PodsCreated(Model)); // no restart within the interval after the first one
        Assert.Equal(Phases.Verified, fixture.Annotation(Model, ContractAnnotations.Phase));
        Assert.Equal(first, fixture.Annotation(Model, ContractAnnotations.ArtifactDigest));
        Assert.Equal("Healthy", fixture.Health(Model).Status);
    }

    [Fact]
    public async Task A_deleted_predictor_pod_is_re_verified_without_a_restart()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        var digest = await FirstVerifiedAsync(fixture);
        var restartedAt = fixture.RestartedAt(Model);
        var pods = fixture.PodsCreated(Model);

        await fixture.DeletePredictorPodAsync(Model);
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Message)?.StartsWith("Re-verified after the predictor pod", StringComparison.Ordinal) == true,
            "the replacement pod to be re-verified");

        Assert.Equal(Phases.Verified, fixture.Annotation(Model, ContractAnnotations.Phase));
        Assert.Equal(digest, fixture.Annotation(Model, ContractAnnotations.ArtifactDigest));
        Assert.Equal(restartedAt, fixture.RestartedAt(Model)); // no restart was written
        Assert.Equal(pods + 1, fixture.PodsCreated(Model)); // only the replacement of the deleted pod
        Assert.StartsWith("continuous-probe-", fixture.Annotation(Model, ContractAnnotations.Run));
    }

    [Fact]
    public async Task A_probe_that_starts_failing_is_recorded_as_Failed_and_a_new_file_heals_it()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await FirstVerifiedAsync(fixture);

        File.Delete(fixture.ModelFile(Model));
        await fixture.DeletePredictorPodAsync(Model); // the replacement starts without a model: 404, but Ready
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Phase) == Phases.Failed, "Failed after the model was lost");

        var message = fixture.Annotation(Model, ContractAnnotations.Message)!;
        Assert.Contains($"answered 404 (Model with name {Model} does not exist.)", message, StringComparison.Ordinal);
        Assert.Contains("holds no model file", message, StringComparison.Ordinal);
        Assert.Equal("Degraded", fixture.Health(Model).Status);

        var restored = await fixture.WriteModelAsync(Model, "model v3, restored");
        await fixture.WaitVerifiedAsync(Model, restored);
        Assert.Equal("Healthy", fixture.Health(Model).Status);
    }

    [Fact]
    public async Task Dry_run_changes_nothing_but_emits_Events()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new() { ["ArgoHooks:Continuous:DryRun"] = "true" });
        await fixture.CreatePredictorBeforeModelAsync(Model);
        var restartedAt = fixture.RestartedAt(Model);
        await fixture.WriteModelAsync(Model, "model v1");

        await fixture.WaitUntilAsync(() => fixture.Events(Model).Any(e => e.Reason == ContinuousVerifier.DryRunReason), "a dry-run Event");

        var dryRun = Assert.Single(fixture.Events(Model), e => e.Reason == ContinuousVerifier.DryRunReason);
        Assert.StartsWith("Dry run: would restart the predictor so that it loads model.pkl (sha256:", dryRun.Message);
        Assert.Null(fixture.Annotation(Model, ContractAnnotations.Phase));
        Assert.Equal(restartedAt, fixture.RestartedAt(Model));
        Assert.Equal(1, fixture.PodsCreated(Model));
        Assert.DoesNotContain(fixture.Events(Model), e => e.Reason != ContinuousVerifier.DryRunReason);
    }

    [Fact]
    public async Task With_two_instances_only_the_Lease_holder_acts()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new()
        {
            ["ArgoHooks:Continuous:LeaderElection:Enabled"] = "true",
            ["ArgoHooks:Continuous:LeaderElection:LeaseNamespace"] = ContinuousCluster.Namespace,
            ["ArgoHooks:Continuous:LeaderElection:LeaseDuration"] = "00:00:02",
            ["ArgoHooks:Continuous:LeaderElection:RenewDeadline"] = "00:00:01.500",
            ["ArgoHooks:Continuous:LeaderElection:RetryPeriod"] = "00:00:00.200",
        }, instances: 2);
        var leaderships = fixture.Hosts.Select(host => (LeaseLeadership)host.App.Services.GetRequiredService<IContinuousLeadership>()).ToList();
        await fixture.WaitUntilAsync(() => leaderships.Any(leadership => leadership.IsLeader), "a leader");

        var digest = await FirstVerifiedAsync(fixture);

        Assert.Equal(2, fixture.PodsCreated(Model)); // exactly one restart for the whole cluster
        var leader = Assert.Single(leaderships, leadership => leadership.IsLeader);
        var lease = fixture.Cluster.Get("coordination.k8s.io/v1", "Lease", ContinuousCluster.Namespace, "argohooks-continuous");
        Assert.Equal(leader.Identity, lease?["spec"]?["holderIdentity"]?.GetValue<string>());
        var actors = fixture.Hosts.Where(host => host.App.Services.GetRequiredService<RunRegistry>().List(ContinuousCluster.Namespace).Count > 0).ToList();
        var actor = Assert.Single(actors);
        Assert.Same(leader, actor.App.Services.GetRequiredService<IContinuousLeadership>());
        Assert.Equal(digest, fixture.Annotation(Model, ContractAnnotations.ArtifactDigest));
    }

    [Fact]
    public async Task An_InferenceService_that_did_not_opt_in_is_left_alone()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await fixture.CreatePredictorBeforeModelAsync("bystander", optIn: false);
        await fixture.WriteModelAsync("bystander", "a model nobody asked to verify");

        await FirstVerifiedAsync(fixture); // the opted-in one, written after the bystander's model

        Assert.Null(fixture.Annotation("bystander", ContractAnnotations.Phase));
        Assert.Null(fixture.RestartedAt("bystander"));
        Assert.Equal(1, fixture.PodsCreated("bystander"));
        Assert.Empty(fixture.Events("bystander"));
    }

    [Fact]
    public async Task Cut_watches_and_410_Gone_are_recovered()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await FirstVerifiedAsync(fixture);
        var listsBefore = fixture.Cluster.Requests.Count("list", "pods");

        // Move the cluster's resourceVersion on, forget the history, and cut every stream: resuming now gets 410.
        await fixture.Cluster.ApplyAsync($"apiVersion: v1\nkind: Service\nmetadata:\n  name: unrelated\n  namespace: {ContinuousCluster.Namespace}\nspec:\n  ports:\n  - port: 80\n",
            TestContext.Current.CancellationToken);
        fixture.Cluster.Faults.CompactHistory();
        Assert.True(fixture.Cluster.Faults.CutWatches() > 0);

        await fixture.WaitUntilAsync(() => fixture.Cluster.Requests.Count("list", "pods") > listsBefore, "the pods to be listed again after 410");
        await fixture.DeletePredictorPodAsync(Model);
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Message)?.StartsWith("Re-verified after the predictor pod", StringComparison.Ordinal) == true,
            "the replacement pod to be re-verified through the recovered watch");
    }

    [Fact]
    public async Task When_the_leader_stops_the_follower_takes_over_and_acts()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new()
        {
            ["ArgoHooks:Continuous:LeaderElection:Enabled"] = "true",
            ["ArgoHooks:Continuous:LeaderElection:LeaseNamespace"] = ContinuousCluster.Namespace,
            ["ArgoHooks:Continuous:LeaderElection:LeaseDuration"] = "00:00:01",
            ["ArgoHooks:Continuous:LeaderElection:RenewDeadline"] = "00:00:00.800",
            ["ArgoHooks:Continuous:LeaderElection:RetryPeriod"] = "00:00:00.100",
        }, instances: 2);
        var leaderships = fixture.Hosts.Select(host => (LeaseLeadership)host.App.Services.GetRequiredService<IContinuousLeadership>()).ToList();
        await fixture.WaitUntilAsync(() => leaderships.Any(leadership => leadership.IsLeader), "a leader");
        await FirstVerifiedAsync(fixture);

        var leaderIndex = leaderships.FindIndex(leadership => leadership.IsLeader);
        await fixture.Hosts[leaderIndex].DisposeAsync();
        var follower = leaderships[1 - leaderIndex];
        await fixture.WaitUntilAsync(() => follower.IsLeader, "the follower to take the Lease over");

        var retrained = await fixture.WriteModelAsync(Model, "model v2 after the failover");
        await fixture.WaitVerifiedAsync(Model, retrained);
        Assert.Equal(3, fixture.PodsCreated(Model));
        Assert.NotEmpty(fixture.Hosts[1 - leaderIndex].App.Services.GetRequiredService<RunRegistry>().List(ContinuousCluster.Namespace));
    }

    [Fact]
    public async Task A_run_in_progress_is_left_to_that_run_and_there_is_only_one_restart()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await fixture.CreatePredictorBeforeModelAsync(Model);
        var registry = fixture.Hosts[0].App.Services.GetRequiredService<RunRegistry>();
        var started = registry.Start(new RunRequest(ContinuousCluster.Namespace, [Model], "job-uid-1", null));
        Assert.Equal(StartOutcome.Created, started.Outcome);
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Phase) == Phases.AwaitingArtifact, "the run to wait for the artifact");

        var digest = await fixture.WriteModelAsync(Model, "model written by the sync's job");
        await fixture.WaitVerifiedAsync(Model, digest);
        await fixture.WaitUntilAsync(() => started.Run!.IsFinished, "the run to finish");

        Assert.Equal(RunStates.Succeeded, started.Run!.View().State);
        Assert.Equal(2, fixture.PodsCreated(Model)); // one restart, by the run
        Assert.DoesNotContain(registry.List(ContinuousCluster.Namespace), run => run.Id.StartsWith("continuous-", StringComparison.Ordinal) && run.View().InferenceServices.Any(item => item.Restarts > 0));
    }

    [Fact]
    public async Task Knative_mode_a_retrained_model_gets_a_new_revision_and_is_verified()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await fixture.CreatePredictorBeforeModelAsync(Model, mode: "Serverless");
        var first = await fixture.WriteModelAsync(Model, "knative model v1");
        await fixture.WaitVerifiedAsync(Model, first);
        var revision = fixture.Isvc(Model)["status"]?["components"]?["predictor"]?["latestReadyRevision"]?.GetValue<string>();

        var retrained = await fixture.WriteModelAsync(Model, "knative model v2");
        await fixture.WaitVerifiedAsync(Model, retrained);

        Assert.NotEqual(revision, fixture.Isvc(Model)["status"]?["components"]?["predictor"]?["latestReadyRevision"]?.GetValue<string>());
        Assert.Contains(fixture.Cluster.ModelServers, server => server.ModelName == Model && server.State == ModelServerState.Running && server.LoadedModelDigest == retrained);
        Assert.Equal("Healthy", fixture.Health(Model).Status);
        using var metrics = await fixture.Hosts[0].Client.GetAsync("metrics", TestContext.Current.CancellationToken);
        var text = await metrics.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("argohooks_continuous_actions_total{kind=\"restart\",result=\"Verified\"}", text, StringComparison.Ordinal);
        Assert.Contains("argohooks_continuous_leader 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_the_minimum_interval_the_latest_file_is_restarted_once()
    {
        await using var fixture = await ContinuousCluster.StartAsync(new() { ["ArgoHooks:Continuous:MinRestartInterval"] = "00:00:05" });
        await FirstVerifiedAsync(fixture);
        var second = await fixture.WriteModelAsync(Model, "model v2 within the interval");
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Message)?.Contains("suppressed until", StringComparison.Ordinal) == true,
            "the restart to be suppressed");
        var third = await fixture.WriteModelAsync(Model, "model v3, the latest");

        await fixture.WaitVerifiedAsync(Model, third);

        Assert.Equal(3, fixture.PodsCreated(Model)); // the first restart, then one for the latest file
        Assert.NotEqual(second, third);
    }

    [Fact]
    public async Task A_spec_change_is_verified_for_the_new_generation_without_a_restart()
    {
        // A settle interval over one second makes the restarted pod start in a later (whole) second than the file was
        // written, as it does in reality: only then is it certain to have loaded it (startedAt has second precision).
        await using var fixture = await ContinuousCluster.StartAsync(new()
        {
            ["ArgoHooks:Continuous:MinRestartInterval"] = "01:00:00",
            ["ArgoHooks:Artifacts:SettleInterval"] = "00:00:01.100",
        });
        var digest = await FirstVerifiedAsync(fixture);
        var restartedAt = fixture.RestartedAt(Model);

        await fixture.Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new k8s.Models.V1Patch("{\"spec\":{\"predictor\":{\"minReplicas\":2}}}", k8s.Models.V1Patch.PatchType.MergePatch),
            "serving.kserve.io", "v1beta1", ContinuousCluster.Namespace, "inferenceservices", Model, cancellationToken: TestContext.Current.CancellationToken);
        var generation = fixture.Isvc(Model)["metadata"]!["generation"]!.GetValue<long>().ToString(System.Globalization.CultureInfo.InvariantCulture);
        await fixture.WaitUntilAsync(() => fixture.Annotation(Model, ContractAnnotations.Generation) == generation
            && fixture.Annotation(Model, ContractAnnotations.Phase) == Phases.Verified, "Verified for the new generation");

        Assert.Equal(digest, fixture.Annotation(Model, ContractAnnotations.ArtifactDigest));
        Assert.Equal(restartedAt, fixture.RestartedAt(Model));
        Assert.DoesNotContain("suppressed", fixture.Annotation(Model, ContractAnnotations.Message), StringComparison.Ordinal);
        Assert.Equal("Healthy", fixture.Health(Model).Status);
    }

    [Fact]
    public async Task Stopping_the_service_ends_continuous_verification_cleanly()
    {
        await using var fixture = await ContinuousCluster.StartAsync();
        await FirstVerifiedAsync(fixture);
        var host = fixture.Hosts[0];
        var service = host.App.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<ContinuousVerificationService>().Single();
        Assert.False(service.ExecuteTask!.IsCompleted); // running while the host runs

        await host.App.StopAsync(TestContext.Current.CancellationToken);

        Assert.True(service.ExecuteTask.IsCompletedSuccessfully);
    }
}
