using System.Net;
using System.Text.Json;
using ArgoHooks.ClusterEmulator;
using k8s;
using k8s.Autorest;

namespace ClusterEmulator.Tests;

internal static class TestSupport
{
    public const string Group = "serving.kserve.io";
    public const string V1beta1 = "v1beta1";
    public const string Plural = "inferenceservices";

    public static EmulatorOptions FastOptions() => new()
    {
        PredictorStartupDelay = TimeSpan.FromMilliseconds(100),
        CrashLoopBackOff = TimeSpan.FromMilliseconds(200),
        ControllerResyncInterval = TimeSpan.FromMilliseconds(200),
        Namespaces = ["default", "ml"],
    };

    public static Task<EmulatedCluster> StartAsync(Action<EmulatorOptions>? configure = null)
    {
        var options = FastOptions();
        configure?.Invoke(options);
        return EmulatedCluster.StartAsync(options, TestContext.Current.CancellationToken);
    }

    public static Kubernetes Client(EmulatedCluster cluster, string? token = null) =>
        new(new KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString(), AccessToken = token ?? cluster.AdminToken });

    public static object InferenceService(string name, string storageUri = "pvc://model-storage-pvc/models/iris", string? mode = null,
        Dictionary<string, string>? predictorAnnotations = null, Dictionary<string, string>? annotations = null)
    {
        var meta = new Dictionary<string, object> { ["name"] = name };
        var ann = new Dictionary<string, string>(annotations ?? []);
        if (mode is not null) ann["serving.kserve.io/deploymentMode"] = mode;
        if (ann.Count > 0) meta["annotations"] = ann;
        var predictor = new Dictionary<string, object>
        {
            ["model"] = new Dictionary<string, object>
            {
                ["modelFormat"] = new Dictionary<string, string> { ["name"] = "sklearn" },
                ["storageUri"] = storageUri,
            },
        };
        if (predictorAnnotations is not null) predictor["annotations"] = predictorAnnotations;
        return new Dictionary<string, object>
        {
            ["apiVersion"] = "serving.kserve.io/v1beta1",
            ["kind"] = "InferenceService",
            ["metadata"] = meta,
            ["spec"] = new Dictionary<string, object> { ["predictor"] = predictor },
        };
    }

    public static JsonElement AsJson(object o) => o is JsonElement e ? e : JsonSerializer.SerializeToElement(o);

    public static string? Str(this JsonElement e, params string[] path)
    {
        var current = e;
        foreach (var p in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(p, out current)) return null;
        }
        return current.ValueKind == JsonValueKind.String ? current.GetString() : current.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False ? current.GetRawText() : null;
    }

    public static string? Condition(this JsonElement isvc, string type)
    {
        if (!isvc.TryGetProperty("status", out var status) || !status.TryGetProperty("conditions", out var conditions)) return null;
        foreach (var c in conditions.EnumerateArray())
            if (c.Str("type") == type) return c.Str("status");
        return null;
    }

    public static async Task<JsonElement> GetIsvcAsync(Kubernetes client, string ns, string name) =>
        AsJson(await client.CustomObjects.GetNamespacedCustomObjectAsync(Group, V1beta1, ns, Plural, name, TestContext.Current.CancellationToken));

    /// <summary>Polls until the predicate holds (generous timeout: this waits, it does not measure).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, int timeoutSeconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
        T value = await read();
        while (!done(value))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"gave up waiting for: {what}");
            await Task.Delay(25, TestContext.Current.CancellationToken);
            value = await read();
        }
        return value;
    }

    public static async Task<HttpOperationException> ExpectHttpErrorAsync(Func<Task> call, HttpStatusCode code)
    {
        var e = await Assert.ThrowsAsync<HttpOperationException>(call);
        Assert.Equal(code, e.Response.StatusCode);
        return e;
    }

    public static JsonElement StatusBody(HttpOperationException e) => JsonDocument.Parse(e.Response.Content).RootElement;
}
