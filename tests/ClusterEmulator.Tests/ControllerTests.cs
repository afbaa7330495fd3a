using System.Text.Json;
using ArgoHooks.ClusterEmulator;
using k8s;
using k8s.Models;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class ControllerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static V1Patch PredictorAnnotation(string value) =>
        new($"{{\"spec\":{{\"predictor\":{{\"annotations\":{{\"argohooks.io/restarted-at\":\"{value}\"}}}}}}}}", V1Patch.PatchType.MergePatch);

    private static string ModelDir(EmulatedCluster cluster)
    {
        var dir = Path.Combine(cluster.Storage.ClaimDirectory("model-storage-pvc"), "models", "iris");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static object WithReplicas(object isvc, int replicas)
    {
        var json = JsonSerializer.Serialize(isvc).Replace("\"predictor\":{", $"\"predictor\":{{\"minReplicas\":{replicas},");
        return JsonSerializer.Deserialize<JsonElement>(json);
    }

    [Fact]
    public async Task Rolling_update_surges_new_pods_before_removing_old_ones_and_reports_progress()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await File.WriteAllTextAsync(Path.Combine(ModelDir(cluster), "model.pkl"), "model-v1", Ct);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(WithReplicas(InferenceService("iris"), 2), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var initial = await EventuallyAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync("iris-predictor", "ml", cancellationToken: Ct),
            d => d.Status?.Conditions?.Any(c => c.Type == "Progressing" && c.Reason == "NewReplicaSetAvailable") == true, "first rollout complete");
        Assert.Equal(2, initial.Status.AvailableReplicas);
        var firstRs = Assert.Single((await client.AppsV1.ListNamespacedReplicaSetAsync("ml", cancellationToken: Ct)).Items);
        Assert.Equal(firstRs.Metadata.Name, $"iris-predictor-{firstRs.Metadata.Labels["pod-template-hash"]}");
        Assert.Equal("Deployment", firstRs.Metadata.OwnerReferences.Single().Kind);
        var pod = (await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items.First();
        Assert.Equal("ReplicaSet", pod.Metadata.OwnerReferences.Single().Kind);
        Assert.Equal("isvc.iris-predictor", pod.Metadata.Labels["app"]);

        // Watch the Deployment through the rollout: availability never drops below the desired count (maxUnavailable rounds down to 0).
        cluster.Controllers.PredictorStartupDelay = TimeSpan.FromMilliseconds(300);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        var reasons = new List<string>();
        var minAvailable = int.MaxValue;
        var maxPods = 0;
        var watchTask = Task.Run(async () =>
        {
            await foreach (var (_, d) in client.AppsV1.WatchListNamespacedDeploymentAsync("ml", fieldSelector: "metadata.name=iris-predictor",
                               resourceVersion: initial.Metadata.ResourceVersion, cancellationToken: cts.Token))
            {
                var progressing = d.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
                if (progressing is not null && d.Status?.ObservedGeneration == 2 && (reasons.Count == 0 || reasons[^1] != progressing.Reason)) reasons.Add(progressing.Reason);
                minAvailable = Math.Min(minAvailable, d.Status?.AvailableReplicas ?? 0);
                maxPods = Math.Max(maxPods, d.Status?.Replicas ?? 0);
                if (d.Metadata.Generation == 2 && d.Status?.ObservedGeneration == 2 && progressing?.Reason == "NewReplicaSetAvailable") return d;
            }
            throw new InvalidOperationException("watch ended before the rollout finished");
        }, cts.Token);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(PredictorAnnotation("2025-01-01T00:00:00Z"), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        var done = await watchTask;

        Assert.Equal("NewReplicaSetCreated", reasons[0]);
        Assert.Contains("ReplicaSetUpdated", reasons);
        Assert.Equal("NewReplicaSetAvailable", reasons[^1]);
        Assert.Equal(2, minAvailable);
        Assert.Equal(3, maxPods); // maxSurge 25% of 2 rounds up to 1
        Assert.Equal(2, done.Status.UpdatedReplicas);
        Assert.Equal("True", done.Status.Conditions.Single(c => c.Type == "Available").Status);
        var replicaSets = (await client.AppsV1.ListNamespacedReplicaSetAsync("ml", cancellationToken: Ct)).Items;
        Assert.Equal(2, replicaSets.Count);
        Assert.Equal(0, replicaSets.Single(r => r.Metadata.Name == firstRs.Metadata.Name).Spec.Replicas);
        Assert.Equal("2", done.Metadata.Annotations["deployment.kubernetes.io/revision"]);
        var pods = await EventuallyAsync(() => client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct), l => l.Items.Count == 2, "old pods gone");
        Assert.All(pods.Items, p => Assert.Equal("2025-01-01T00:00:00Z", p.Metadata.Annotations["argohooks.io/restarted-at"]));

        // KServe copies the Deployment's observedGeneration, not its own generation.
        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Str("status", "observedGeneration") == "2" && i.Condition("Ready") == "True", "isvc status");
        Assert.Equal("2", isvc.Str("metadata", "generation"));
        Assert.Equal("2", isvc.Str("status", "modelStatus", "copies", "totalCopies"));
    }

    [Fact]
    public async Task Stuck_rollout_hits_progress_deadline_and_kserve_reports_it()
    {
        await using var cluster = await StartAsync(o => o.ProgressDeadline = TimeSpan.FromSeconds(1));
        using var client = Client(cluster);
        var dir = ModelDir(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "ready without a model");

        await File.WriteAllTextAsync(Path.Combine(dir, "model.pkl"), "CORRUPT bytes", Ct);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(PredictorAnnotation("2025-01-01T00:00:00Z"), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        var deployment = await EventuallyAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync("iris-predictor", "ml", cancellationToken: Ct),
            d => d.Status?.Conditions?.Any(c => c.Type == "Progressing" && c.Status == "False") == true, "progress deadline");
        var progressing = deployment.Status.Conditions.Single(c => c.Type == "Progressing");
        Assert.Equal("ProgressDeadlineExceeded", progressing.Reason);
        Assert.Matches("^ReplicaSet \"iris-predictor-[a-z0-9]+\" has timed out progressing\\.$", progressing.Message);
        // The old pod keeps serving, so the Deployment stays Available.
        Assert.Equal("True", deployment.Status.Conditions.Single(c => c.Type == "Available").Status);

        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("PredictorReady") == "False", "PredictorReady False");
        var predictorReady = isvc.GetProperty("status").GetProperty("conditions").EnumerateArray().Single(c => c.Str("type") == "PredictorReady");
        Assert.Equal("ProgressDeadlineExceeded", predictorReady.Str("reason"));
        Assert.Equal("False", isvc.Condition("Ready"));
    }

    [Fact]
    public async Task Corrupt_model_crash_loops_and_kserve_reports_blocked_by_failed_load_until_the_file_is_fixed()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        var dir = ModelDir(cluster);
        await File.WriteAllTextAsync(Path.Combine(dir, "model.joblib"), "CORRUPT", Ct);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);

        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Str("status", "modelStatus", "transitionStatus") == "BlockedByFailedLoad", "BlockedByFailedLoad");
        Assert.Equal("FailedToLoad", isvc.Str("status", "modelStatus", "states", "targetModelState"));
        Assert.Equal("ModelLoadFailed", isvc.Str("status", "modelStatus", "lastFailureInfo", "reason"));
        Assert.Contains("UnpicklingError", isvc.Str("status", "modelStatus", "lastFailureInfo", "message"));
        Assert.Equal("False", isvc.Condition("PredictorReady"));
        Assert.Equal("False", isvc.Condition("Ready"));

        var pod = await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items.Single(),
            p => p.Status?.ContainerStatuses?.Single().RestartCount >= 2, "restarts");
        var cs = pod.Status.ContainerStatuses.Single();
        Assert.False(cs.Ready);
        Assert.Equal("Error", cs.LastState.Terminated.Reason);
        var log = await client.CoreV1.ReadNamespacedPodLogAsync(pod.Metadata.Name, "ml", cancellationToken: Ct);
        Assert.Contains("UnpicklingError", await new StreamReader(log).ReadToEndAsync(Ct));

        // A second model file is just as fatal; then a single good file loads at the next restart.
        await File.WriteAllTextAsync(Path.Combine(dir, "model.joblib"), "good", Ct);
        await File.WriteAllTextAsync(Path.Combine(dir, "other.pkl"), "good", Ct);
        await EventuallyAsync(() => Task.FromResult(cluster.ModelServers.Single().LastError ?? ""), e => e.Contains("More than one model file"), "duplicate detection");
        File.Delete(Path.Combine(dir, "other.pkl"));
        isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "recovered");
        Assert.Equal("Loaded", isvc.Str("status", "modelStatus", "states", "activeModelState"));
        Assert.Equal("UpToDate", isvc.Str("status", "modelStatus", "transitionStatus"));
        Assert.True(cluster.ModelServers.Single().ModelLoaded);
    }

    [Fact]
    public async Task Knative_mode_makes_a_revision_per_predictor_change_and_ready_follows_created()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris", mode: "Serverless"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "first revision ready");
        Assert.Equal("Serverless", isvc.Str("status", "deploymentMode"));
        Assert.Equal("iris-predictor-00001", isvc.Str("status", "components", "predictor", "latestCreatedRevision"));
        Assert.Equal("iris-predictor-00001", isvc.Str("status", "components", "predictor", "latestReadyRevision"));
        var pods = await client.CoreV1.ListNamespacedPodAsync("ml", labelSelector: "serving.knative.dev/revision=iris-predictor-00001", cancellationToken: Ct);
        Assert.Equal("predictor", Assert.Single(pods.Items).Metadata.Labels["component"]);

        cluster.Controllers.PredictorStartupDelay = TimeSpan.FromSeconds(1);
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(PredictorAnnotation("2025-01-01T00:00:00Z"), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Str("status", "components", "predictor", "latestCreatedRevision") == "iris-predictor-00002", "new revision created");
        Assert.Equal("iris-predictor-00001", isvc.Str("status", "components", "predictor", "latestReadyRevision"));
        Assert.NotEqual("True", isvc.Condition("Ready"));

        isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Str("status", "components", "predictor", "latestReadyRevision") == "iris-predictor-00002", "new revision ready");
        Assert.Equal("True", isvc.Condition("Ready"));
        await EventuallyAsync(() => client.CoreV1.ListNamespacedPodAsync("ml", labelSelector: "serving.knative.dev/revision=iris-predictor-00001", cancellationToken: Ct),
            l => l.Items.Count == 0, "old revision pods removed");
        var newPod = Assert.Single((await client.CoreV1.ListNamespacedPodAsync("ml", labelSelector: "serving.kserve.io/inferenceservice=iris", cancellationToken: Ct)).Items);
        Assert.Equal("iris-predictor-00002", newPod.Metadata.Labels["serving.knative.dev/revision"]);
        var revisions = AsJson(await client.CustomObjects.ListNamespacedCustomObjectAsync("serving.knative.dev", "v1", "ml", "revisions", cancellationToken: Ct));
        Assert.Equal(2, revisions.GetProperty("items").GetArrayLength());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Rollout_restart_starts_a_rollout_which_kserve_may_revert(bool kserveReverts)
    {
        await using var cluster = await StartAsync(o => o.KServeRevertsRolloutRestart = kserveReverts);
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var before = await EventuallyAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync("iris-predictor", "ml", cancellationToken: Ct),
            d => d.Status?.AvailableReplicas == 1, "available");
        var restart = new V1Patch("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"2025-01-01T00:00:00Z\"}}}}}", V1Patch.PatchType.StrategicMergePatch);
        var patched = await client.AppsV1.PatchNamespacedDeploymentAsync(restart, "iris-predictor", "ml", fieldManager: "kubectl-rollout", cancellationToken: Ct);
        Assert.Equal(before.Metadata.Generation + 1, patched.Metadata.Generation);

        var after = await EventuallyAsync(() => client.AppsV1.ReadNamespacedDeploymentAsync("iris-predictor", "ml", cancellationToken: Ct),
            d => d.Status?.ObservedGeneration == d.Metadata.Generation && d.Status?.Conditions?.Any(c => c.Reason == "NewReplicaSetAvailable") == true
                 && d.Metadata.Generation > patched.Metadata.Generation == kserveReverts, "settled");
        var annotations = after.Spec.Template.Metadata.Annotations ?? new Dictionary<string, string>();
        Assert.Equal(!kserveReverts, annotations.ContainsKey("kubectl.kubernetes.io/restartedAt"));
    }

    [Fact]
    public async Task Stop_annotation_scales_to_zero_and_sets_stopped()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "ready");
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(new V1Patch("{\"metadata\":{\"annotations\":{\"serving.kserve.io/stop\":\"true\"}}}", V1Patch.PatchType.MergePatch), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Stopped") == "True", "stopped");
        Assert.Equal("False", isvc.Condition("Ready"));
        await EventuallyAsync(() => client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct), l => l.Items.Count == 0, "pods gone");
        Assert.DoesNotContain(cluster.ModelServers, s => s.State != ModelServerState.Stopped);
    }

    [Fact]
    public async Task Deleting_a_pod_stops_its_server_and_the_replica_set_replaces_it()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var ready = await EventuallyAsync(() => SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris"), p => p.Count == 1, "ready pod");
        var oldPort = ready[0].Spec.Containers[0].Ports[0].ContainerPort;
        var deleted = await client.CoreV1.DeleteNamespacedPodAsync(ready[0].Metadata.Name, "ml", cancellationToken: Ct);
        // Graceful deletion: the pod stays visible as Terminating, no longer Ready, its server stopped.
        Assert.NotNull(deleted.Metadata.DeletionTimestamp);
        var terminating = await EventuallyAsync(() => client.CoreV1.ReadNamespacedPodAsync(ready[0].Metadata.Name, "ml", cancellationToken: Ct),
            p => p.Status.Conditions.Single(c => c.Type == "Ready").Status == "False", "terminating pod not ready");
        Assert.Equal(1, terminating.Metadata.DeletionGracePeriodSeconds);
        var replaced = await EventuallyAsync(() => SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris"),
            p => p.Count == 1 && p[0].Metadata.Name != ready[0].Metadata.Name, "replacement pod");
        Assert.NotEqual(oldPort, replaced[0].Spec.Containers[0].Ports[0].ContainerPort);
        using var http = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync($"http://127.0.0.1:{oldPort}/v2/health/live", Ct));
        await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items.Count, n => n == 1, "terminated pod removed");

        // gracePeriodSeconds=0 removes at once.
        await client.CoreV1.DeleteNamespacedPodAsync(replaced[0].Metadata.Name, "ml", gracePeriodSeconds: 0, cancellationToken: Ct);
        await ExpectHttpErrorAsync(() => client.CoreV1.ReadNamespacedPodAsync(replaced[0].Metadata.Name, "ml", cancellationToken: Ct), System.Net.HttpStatusCode.NotFound);
    }
}

public class AnnotationPropagationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static V1Patch Annotation(string key, string value) =>
        new($"{{\"metadata\":{{\"annotations\":{{\"{key}\":\"{value}\"}}}}}}", V1Patch.PatchType.MergePatch);

    [Theory]
    [InlineData("RawDeployment")]
    [InlineData("Serverless")]
    public async Task With_kserve_propagation_an_inference_service_annotation_change_restarts_the_predictor(string mode)
    {
        await using var cluster = await StartAsync(o =>
        {
            o.KServePropagatesInferenceServiceAnnotations = true;
            o.ServiceAnnotationDisallowedList.Add("argohooks.io/ignored");
        });
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris", mode: mode), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var first = await EventuallyAsync(() => SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris"), p => p.Count == 1, "ready");

        // A disallowed key stays on the InferenceService only.
        await client.CustomObjects.PatchNamespacedCustomObjectAsync(Annotation("argohooks.io/ignored", "x"), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct);
        await Task.Delay(300, Ct);
        Assert.Equal(first[0].Metadata.Name, Assert.Single(await SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris")).Metadata.Name);

        // Any other metadata annotation reaches the pod template: generation unchanged, pods replaced.
        var patched = AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(Annotation("argohooks.io/phase", "Verifying"), Group, V1beta1, "ml", Plural, "iris", cancellationToken: Ct));
        Assert.Equal("1", patched.Str("metadata", "generation"));
        var replaced = await EventuallyAsync(() => SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris"),
            p => p.Count == 1 && p[0].Metadata.Name != first[0].Metadata.Name, "replacement pod");
        Assert.Equal("Verifying", replaced[0].Metadata.Annotations["argohooks.io/phase"]);
        Assert.False(replaced[0].Metadata.Annotations.ContainsKey("argohooks.io/ignored"));
    }
}
