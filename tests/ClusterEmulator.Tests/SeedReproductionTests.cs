using System.Net;
using k8s;
using k8s.Models;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

/// <summary>The race ArgoHooks exists for, replayed on the emulator through the real client.</summary>
public class SeedReproductionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static async Task<List<V1Pod>> ReadyPredictorPodsAsync(Kubernetes client, string ns, string isvc) =>
        (await client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: $"serving.kserve.io/inferenceservice={isvc},component=predictor", cancellationToken: Ct)).Items
            .Where(p => p.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true).ToList();

    internal static async Task<HttpStatusCode> ProbeAsync(HttpClient http, V1Pod pod, string model)
    {
        var port = pod.Spec.Containers.Single(c => c.Name == "kserve-container").Ports[0].ContainerPort;
        using var response = await http.GetAsync($"http://{pod.Status.PodIP}:{port}/v1/models/{model}", Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Model_written_after_start_stays_unloaded_while_kserve_says_ready_until_a_restart()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        using var http = new HttpClient();
        var modelDir = Path.Combine(cluster.Storage.ClaimDirectory("model-storage-pvc"), "models", "iris");
        Directory.CreateDirectory(modelDir);

        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "InferenceService Ready");
        Assert.Equal("True", isvc.Condition("PredictorReady"));
        Assert.Equal("Loaded", isvc.Str("status", "modelStatus", "states", "activeModelState"));
        Assert.Equal("UpToDate", isvc.Str("status", "modelStatus", "transitionStatus"));
        Assert.Equal("RawDeployment", isvc.Str("status", "deploymentMode"));

        var pods = await ReadyPredictorPodsAsync(client, "ml", "iris");
        var firstPod = Assert.Single(pods);
        Assert.Equal("127.0.0.1", firstPod.Status.PodIP);
        Assert.Equal(HttpStatusCode.NotFound, await ProbeAsync(http, firstPod, "iris"));
        var health = await http.GetAsync($"http://127.0.0.1:{firstPod.Spec.Containers[0].Ports[0].ContainerPort}/v2/health/ready", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        // The training Job writes the model later: the running server never looks again.
        await File.WriteAllBytesAsync(Path.Combine(modelDir, "model.joblib"), [1, 2, 3, 4], Ct);
        await Task.Delay(300, Ct);
        Assert.Equal(HttpStatusCode.NotFound, await ProbeAsync(http, firstPod, "iris"));
        isvc = await GetIsvcAsync(client, "ml", "iris");
        Assert.Equal("True", isvc.Condition("Ready"));
        Assert.Equal("Loaded", isvc.Str("status", "modelStatus", "states", "activeModelState"));

        // The restart that works in both modes: a predictor annotation.
        var restart = new V1Patch("{\"spec\":{\"predictor\":{\"annotations\":{\"argohooks.io/restarted-at\":\"2025-01-01T00:00:00Z\"}}}}", V1Patch.PatchType.MergePatch);
        var patched = TestSupport.AsJson(await client.CustomObjects.PatchNamespacedCustomObjectAsync(restart, Group, V1beta1, "ml", Plural, "iris", fieldManager: "argohooks", cancellationToken: Ct));
        Assert.Equal("2", patched.Str("metadata", "generation"));

        var newPods = await EventuallyAsync(() => ReadyPredictorPodsAsync(client, "ml", "iris"),
            ps => ps.Count == 1 && ps[0].Metadata.Name != firstPod.Metadata.Name, "the restarted pod to be the only ready pod");
        Assert.Equal("2025-01-01T00:00:00Z", newPods[0].Metadata.Annotations["argohooks.io/restarted-at"]);
        Assert.Equal(HttpStatusCode.OK, await ProbeAsync(http, newPods[0], "iris"));
        var server = Assert.Single(cluster.ModelServers, s => s.PodName == newPods[0].Metadata.Name);
        Assert.True(server.ModelLoaded);
        Assert.StartsWith("sha256:", server.LoadedModelDigest);
        await EventuallyAsync(() => Task.FromResult(cluster.ModelServers.Count), c => c == 1, "the old pod's server to stop");
    }
}
