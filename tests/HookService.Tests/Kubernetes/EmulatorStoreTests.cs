using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class EmulatorStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Get_and_list_map_raw_knative_and_framework_style_inference_services()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("raw-one", "RawDeployment", extraAnnotations: ["argohooks.io/model-name: anomaly"]), Ct);
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("kn-one", "Serverless", predictorYaml: """
                sklearn:
                  storageUri: pvc://model-storage-pvc/kn
            """), Ct);

        var raw = await h.Store.GetAsync(EmulatorHarness.Namespace, "raw-one", Ct);
        var all = await h.Store.ListAsync(EmulatorHarness.Namespace, Ct);
        var missing = await h.Store.GetAsync(EmulatorHarness.Namespace, "nope", Ct);

        Assert.NotNull(raw);
        Assert.Equal("RawDeployment", raw.DeploymentMode);
        Assert.Equal("pvc://model-storage-pvc/raw-one", raw.StorageUri);
        Assert.Equal("anomaly", raw.ModelName);
        Assert.False(string.IsNullOrEmpty(raw.Uid));
        Assert.False(string.IsNullOrEmpty(raw.ResourceVersion));
        Assert.Equal(1, raw.Generation);
        Assert.Null(missing);
        Assert.Equal(["kn-one", "raw-one"], all.Select(i => i.Name));
        var knative = all.Single(i => i.Name == "kn-one");
        Assert.Equal("Serverless", knative.DeploymentMode);
        Assert.Equal("pvc://model-storage-pvc/kn", knative.StorageUri);
        Assert.Equal("kn-one", knative.ModelName);
        Assert.Empty(await h.Store.ListAsync("team-b", Ct));
    }

    [Fact]
    public async Task Record_phase_writes_only_owned_annotations_as_argohooks_and_emits_events()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m", extraAnnotations: ["argohooks.io/gate: strict"]), Ct);
        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        var verifiedAt = new DateTimeOffset(2026, 11, 30, 6, 0, 0, TimeSpan.Zero);

        var verified = await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.Verified, current.Generation, "The model is loaded.", "run-1", "sha256:abc", verifiedAt), Ct);
        var failed = await h.Store.RecordPhaseAsync(verified, new PhaseRecord(Phases.Failed, current.Generation, "The model did not load.", "run-2"), Ct);

        Assert.Equal("Verified", verified.Annotation(ContractAnnotations.Phase));
        Assert.Equal("sha256:abc", verified.Annotation(ContractAnnotations.ArtifactDigest));
        Assert.Equal("2026-11-30T06:00:00Z", verified.Annotation(ContractAnnotations.VerifiedAt));
        Assert.Equal("Failed", failed.Annotation(ContractAnnotations.Phase));
        Assert.Equal("run-2", failed.Annotation(ContractAnnotations.Run));
        Assert.Equal(current.Generation.ToString(System.Globalization.CultureInfo.InvariantCulture), failed.Annotation(ContractAnnotations.Generation));
        Assert.Null(failed.Annotation(ContractAnnotations.ArtifactDigest));
        Assert.Null(failed.Annotation(ContractAnnotations.VerifiedAt));
        // Keys we do not own are untouched, and a metadata-only write does not bump the generation.
        Assert.Equal("strict", failed.Annotation(ContractAnnotations.Gate));
        Assert.Equal("data-science", failed.Annotation("team.example.com/owner"));
        Assert.Equal("RawDeployment", failed.Annotation("serving.kserve.io/deploymentMode"));
        Assert.Equal(current.Generation, failed.Generation);

        var stored = h.Cluster.Get("serving.kserve.io/v1beta1", "InferenceService", EmulatorHarness.Namespace, "m")!;
        var managers = (stored["metadata"]?["managedFields"] as JsonArray ?? []).Select(f => f?["manager"]?.GetValue<string>()).ToList();
        Assert.Contains("argohooks", managers);

        var events = h.Cluster.List("events.k8s.io/v1", "Event", EmulatorHarness.Namespace)
            .Where(e => e["regarding"]?["name"]?.GetValue<string>() == "m")
            .ToList();
        Assert.Equal(["Failed", "Verified"], events.Select(e => e["reason"]!.GetValue<string>()).Order(StringComparer.Ordinal));
        var failedEvent = events.Single(e => e["reason"]!.GetValue<string>() == "Failed");
        Assert.Equal("Warning", failedEvent["type"]!.GetValue<string>());
        Assert.Equal("argohooks.io/hook-service", failedEvent["reportingController"]!.GetValue<string>());
        Assert.Equal("hook-service-test", failedEvent["reportingInstance"]!.GetValue<string>());
        Assert.Equal("The model did not load.", failedEvent["note"]!.GetValue<string>());
        Assert.Equal("InferenceService", failedEvent["regarding"]!["kind"]!.GetValue<string>());
        Assert.Equal(current.Uid, failedEvent["regarding"]!["uid"]!.GetValue<string>());
        Assert.Equal("Normal", events.Single(e => e["reason"]!.GetValue<string>() == "Verified")["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failing_event_api_does_not_fail_the_phase_write()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m"), Ct);
        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        h.Cluster.Faults.Add(new FaultRule { Resource = "events", Verb = "create", StatusCodes = [403] });

        var written = await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.AwaitingArtifact, current.Generation, "Waiting.", "run-1"), Ct);

        Assert.Equal("AwaitingArtifact", written.Annotation(ContractAnnotations.Phase));
        Assert.True(h.Cluster.Requests.Count("create", "events", EmulatorHarness.Namespace) >= 1);
    }

    [Fact]
    public async Task Record_phase_on_a_deleted_inference_service_fails_with_404()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("gone"), Ct);
        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "gone", Ct))!;
        await h.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(InferenceServiceJson.Group, InferenceServiceJson.Version, EmulatorHarness.Namespace, InferenceServiceJson.Plural, "gone", cancellationToken: Ct);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.Failed, 1, "x", "r"), Ct));

        Assert.Equal(System.Net.HttpStatusCode.NotFound, KubernetesErrors.StatusOf(error));
    }

    [Fact]
    public async Task Record_phase_rereads_and_retries_on_conflict()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m"), Ct);
        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        var conflicts = h.Cluster.Faults.Add(new FaultRule { Resource = "inferenceservices", Verb = "patch", StatusCodes = [409], Count = 2 });

        var written = await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.Verifying, current.Generation, "Probing.", "run-1"), Ct);

        Assert.Equal(2, h.Cluster.Faults.InjectedBy(conflicts));
        Assert.Equal("Verifying", written.Annotation(ContractAnnotations.Phase));
        Assert.Equal(3, h.Cluster.Requests.Count("patch", "inferenceservices", EmulatorHarness.Namespace));
    }

    [Fact]
    public async Task A_guarded_restart_that_meets_a_conflict_is_a_concurrent_change()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m"), Ct);
        var stale = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        await h.Store.RecordPhaseAsync(stale, new PhaseRecord(Phases.AwaitingArtifact, stale.Generation, "Waiting.", "other-run"), Ct);

        await Assert.ThrowsAsync<ConcurrentChangeException>(() =>
            h.Get<IPredictorRestarter>().RestartAsync(stale, new PhaseRecord(Phases.Restarting, stale.Generation, "Restarting.", "run-1"), Ct));

        var after = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        Assert.Null(after.RestartedAt);
        Assert.Equal(stale.Generation, after.Generation);
        Assert.Equal("AwaitingArtifact", after.Annotation(ContractAnnotations.Phase));
    }

    [Fact]
    public async Task Without_events_k8s_io_the_core_v1_event_api_is_used()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m"), Ct);
        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        h.Cluster.Faults.Add(new FaultRule { PathPrefix = "/apis/events.k8s.io/", StatusCodes = [404] });

        current = await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.AwaitingArtifact, current.Generation, "Waiting for model.joblib.", "run-1"), Ct);
        await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.Failed, current.Generation, "The model never appeared.", "run-1"), Ct);

        var events = h.Cluster.List("v1", "Event", EmulatorHarness.Namespace)
            .Where(e => e["involvedObject"]?["name"]?.GetValue<string>() == "m")
            .ToDictionary(e => e["reason"]!.GetValue<string>());
        Assert.Equal(["AwaitingArtifact", "Failed"], events.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Warning", events["Failed"]["type"]!.GetValue<string>());
        Assert.Equal("The model never appeared.", events["Failed"]["message"]!.GetValue<string>());
        Assert.Equal("argohooks", events["Failed"]["source"]!["component"]!.GetValue<string>());
        // After the first 404 the adapter stops asking events.k8s.io.
        Assert.Equal(1, h.Cluster.Requests.Count("create", "events", EmulatorHarness.Namespace) - events.Count);
    }
}
