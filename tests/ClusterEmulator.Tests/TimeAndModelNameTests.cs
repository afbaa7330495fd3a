using System.Net;
using System.Text.Json;
using k8s;
using Microsoft.Extensions.Time.Testing;
using static ClusterEmulator.Tests.TestSupport;

namespace ClusterEmulator.Tests;

public class TimeAndModelNameTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Controllers_follow_the_injected_time_provider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var cluster = await StartAsync(o =>
        {
            o.TimeProvider = time;
            o.PredictorStartupDelay = TimeSpan.FromMinutes(10);
        });
        using var client = Client(cluster);
        var created = AsJson(await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("iris"), Group, V1beta1, "ml", Plural, cancellationToken: Ct));
        Assert.Equal("2025-01-01T00:00:00Z", created.Str("metadata", "creationTimestamp"));

        var pod = await EventuallyAsync(async () => (await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items,
            p => p.Count == 1 && p[0].Status?.ContainerStatuses is not null, "pod created");
        Assert.Equal("ContainerCreating", pod[0].Status.ContainerStatuses[0].State.Waiting.Reason);
        time.Advance(TimeSpan.FromMinutes(9));
        await Task.Delay(200, Ct);
        Assert.NotEqual("True", (await GetIsvcAsync(client, "ml", "iris")).Condition("Ready"));

        time.Advance(TimeSpan.FromMinutes(1));
        var isvc = await EventuallyAsync(() => GetIsvcAsync(client, "ml", "iris"), i => i.Condition("Ready") == "True", "ready after the fake delay");
        var running = (await client.CoreV1.ListNamespacedPodAsync("ml", cancellationToken: Ct)).Items.Single().Status.ContainerStatuses[0].State.Running;
        Assert.Equal(new DateTime(2025, 1, 1, 0, 10, 0, DateTimeKind.Utc), running.StartedAt);
        Assert.Equal("Loaded", isvc.Str("status", "modelStatus", "states", "activeModelState"));
    }

    [Fact]
    public async Task Model_name_comes_from_the_runtime_args_and_predict_answers_deterministically()
    {
        await using var cluster = await StartAsync();
        using var client = Client(cluster);
        var dir = Path.Combine(cluster.Storage.ClaimDirectory("models"), "flowers");
        Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "model.pickle"), "a model", Ct);
        var isvc = JsonSerializer.Serialize(InferenceService("iris", storageUri: "pvc://models/flowers"))
            .Replace("\"storageUri\":", "\"args\":[\"--model_name=flowers\"],\"storageUri\":");
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(JsonSerializer.Deserialize<JsonElement>(isvc), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        var pods = await EventuallyAsync(() => SeedReproductionTests.ReadyPredictorPodsAsync(client, "ml", "iris"), p => p.Count == 1, "ready");
        var port = pods[0].Spec.Containers[0].Ports[0].ContainerPort;
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };

        var wrong = await http.GetAsync("v1/models/iris", Ct);
        Assert.Equal(HttpStatusCode.NotFound, wrong.StatusCode);
        Assert.Equal("{\"error\":\"Model with name iris does not exist.\"}", await wrong.Content.ReadAsStringAsync(Ct));
        var right = await http.GetAsync("v1/models/flowers", Ct);
        Assert.Equal("{\"name\":\"flowers\",\"ready\":true}", await right.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("v2/models/flowers/ready", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("v2/models/iris/ready", Ct)).StatusCode);

        var predict = await http.PostAsync("v1/models/flowers:predict", new StringContent("{\"instances\":[[1,2],[2,2]]}"), Ct);
        Assert.Equal(HttpStatusCode.OK, predict.StatusCode);
        Assert.Equal("{\"predictions\":[0,1]}", await predict.Content.ReadAsStringAsync(Ct));
        var notLoaded = await http.PostAsync("v1/models/iris:predict", new StringContent("{\"instances\":[[1]]}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, notLoaded.StatusCode);
        var server = cluster.ModelServers.Single();
        Assert.Equal("flowers", server.ModelName);
        Assert.Equal(Path.Combine(dir, "model.pickle"), server.LoadedModelFile);
    }

    [Fact]
    public async Task A_named_object_watch_only_sees_that_object()
    {
        await using var cluster = await StartAsync();
        cluster.Controllers.Paused = true;
        using var client = Client(cluster);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("a"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        await client.CustomObjects.CreateNamespacedCustomObjectAsync(InferenceService("b"), Group, V1beta1, "ml", Plural, cancellationToken: Ct);
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        var text = await http.GetStringAsync("apis/serving.kserve.io/v1beta1/namespaces/ml/inferenceservices/b?watch=true&timeoutSeconds=1", Ct);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal("b", Assert.Single(lines).Str("object", "metadata", "name"));
    }
}
