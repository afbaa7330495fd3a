using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Health;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Fakes;
using k8s;

namespace ArgoHooks.HookService.Tests.Continuous;

/// <summary>
/// An emulated cluster plus one or more hook-service instances with continuous verification on (real adapters,
/// real watches). A recorder notes every predictor pod ever created, so tests count pods from the cluster itself.
/// </summary>
public sealed class ContinuousCluster : IAsyncDisposable
{
    public const string Namespace = "ml-serving";
    public const string Claim = "model-storage-pvc";
    public const string OptIn = "argohooks.io/verify: continuous";

    private readonly CancellationTokenSource stopRecorder = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> podsSeen = new(StringComparer.Ordinal);
    private readonly Task recorder;
    private readonly List<ServiceHost> hosts = [];

    private ContinuousCluster(EmulatedCluster cluster, Dictionary<string, string> settings)
    {
        Cluster = cluster;
        Settings = settings;
        Client = new k8s.Kubernetes(new KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString(), AccessToken = cluster.AdminToken });
        recorder = RecordPodsAsync(stopRecorder.Token);
    }

    public EmulatedCluster Cluster { get; }
    public Dictionary<string, string> Settings { get; }
    public IKubernetes Client { get; }
    public IReadOnlyList<ServiceHost> Hosts => hosts;

    /// <summary>
    /// KServe as installed (deploy/kserve/inferenceservice-config-patch.yaml, embedded): InferenceService annotations
    /// reach the pods, except the contract annotations, so recording a phase never rolls the predictor.
    /// </summary>
    private static string InstalledKServeConfig()
    {
        using var stream = typeof(ContinuousCluster).Assembly.GetManifestResourceStream("inferenceservice-config-patch.yaml")
            ?? throw new InvalidOperationException("The embedded KServe install patch is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public static async Task<ContinuousCluster> StartAsync(Dictionary<string, string>? extra = null, int instances = 1)
    {
        var cluster = await EmulatedCluster.StartAsync(new EmulatorOptions
        {
            PredictorStartupDelay = TimeSpan.FromMilliseconds(150),
            ControllerResyncInterval = TimeSpan.FromMilliseconds(200),
            PodTerminationGracePeriod = TimeSpan.FromMilliseconds(200),
            CrashLoopBackOff = TimeSpan.FromMilliseconds(300),
            Namespaces = [Namespace],
        }.WithInferenceServiceConfig(InstalledKServeConfig()), TestContext.Current.CancellationToken);
        cluster.Storage.ClaimDirectory(Claim);
        var settings = FastSettings.Service(cluster);
        foreach (var (key, value) in new Dictionary<string, string>
        {
            ["ArgoHooks:Security:Enabled"] = "false",
            ["ArgoHooks:Continuous:Enabled"] = "true",
            ["ArgoHooks:Continuous:ProbeInterval"] = "00:00:00.300",
            ["ArgoHooks:Continuous:MinRestartInterval"] = "00:00:00",
            ["ArgoHooks:Continuous:ArtifactPollInterval"] = "00:00:00.050",
            ["ArgoHooks:Continuous:ArtifactPollMaxInterval"] = "00:00:00.200",
            ["ArgoHooks:Continuous:ArtifactSettleTimeout"] = "00:00:10",
            ["ArgoHooks:Continuous:LeaderElection:Enabled"] = "false",
        })
        {
            settings[key] = value;
        }
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var fixture = new ContinuousCluster(cluster, settings);
        for (var index = 0; index < instances; index++)
        {
            await fixture.StartHostAsync();
        }

        return fixture;
    }

    public async Task<ServiceHost> StartHostAsync()
    {
        var host = await ServiceHost.StartAsync(Settings);
        hosts.Add(host);
        return host;
    }

    public string ModelFolder(string isvc)
    {
        var folder = Path.Combine(Cluster.Storage.ClaimDirectory(Claim), isvc);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public string ModelFile(string isvc) => Path.Combine(ModelFolder(isvc), "model.pkl");

    /// <summary>Writes model.pkl with the given content and returns its digest.</summary>
    public async Task<string> WriteModelAsync(string isvc, string content)
    {
        await File.WriteAllTextAsync(ModelFile(isvc), content, TestContext.Current.CancellationToken);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(content)));
    }

    /// <summary>Applies the InferenceService and waits until its predictor runs, without a model (it started first).</summary>
    public async Task CreatePredictorBeforeModelAsync(string name, bool optIn = true, string mode = "RawDeployment")
    {
        ModelFolder(name);
        await Cluster.ApplyAsync(Kubernetes.EmulatorHarness.InferenceService(name, mode, Namespace, optIn ? [OptIn] : []), TestContext.Current.CancellationToken);
        await Cluster.WaitUntilAsync(c => c.ModelServers.Any(server => server.Namespace == Namespace && server.ModelName == name && server.State == ModelServerState.Running),
            TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
    }

    /// <summary>Predictor pods ever created for the InferenceService.</summary>
    public int PodsCreated(string name) => podsSeen.TryGetValue(name, out var pods) ? pods.Count : 0;

    public IReadOnlyDictionary<string, string> Annotations(string name) =>
        (Isvc(name)["metadata"]?["annotations"] as JsonObject ?? [])
            .ToDictionary(pair => pair.Key, pair => pair.Value?.GetValue<string>() ?? "", StringComparer.Ordinal);

    public string? Annotation(string name, string key) => Annotations(name).TryGetValue(key, out var value) ? value : null;

    public string? RestartedAt(string name) => Isvc(name)["spec"]?["predictor"]?["annotations"]?[ContractAnnotations.RestartedAt]?.GetValue<string>();

    public JsonObject Isvc(string name) =>
        Cluster.Get("serving.kserve.io/v1beta1", "InferenceService", Namespace, name) ?? throw new InvalidOperationException($"{name} does not exist");

    public HealthStatus Health(string name) => new LuaHealthEvaluator().Evaluate(HealthScript.InferenceService, Isvc(name));

    public Task WaitUntilAsync(Func<bool> condition, string what, int seconds = 20) =>
        Cluster.WaitUntilAsync(_ => condition(), TimeSpan.FromSeconds(seconds), TestContext.Current.CancellationToken)
            .ContinueWith(task =>
            {
                if (task.IsFaulted || task.IsCanceled)
                {
                    throw new Xunit.Sdk.XunitException($"Timed out waiting for {what}; annotations: {DescribeAnnotations()}");
                }
            }, TaskScheduler.Default);

    public Task WaitVerifiedAsync(string name, string digest) =>
        WaitUntilAsync(() => Annotation(name, ContractAnnotations.Phase) == Phases.Verified && Annotation(name, ContractAnnotations.ArtifactDigest) == digest,
            $"{name} Verified with {digest}");

    /// <summary>Events regarding the InferenceService (as the core v1 view shows them).</summary>
    public IReadOnlyList<(string Reason, string Message)> Events(string name) =>
        Cluster.List("v1", "Event", Namespace)
            .Where(e => e["involvedObject"]?["name"]?.GetValue<string>() == name)
            .Select(e => (e["reason"]?.GetValue<string>() ?? "", e["message"]?.GetValue<string>() ?? ""))
            .ToList();

    public async Task DeletePredictorPodAsync(string name)
    {
        var pods = await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: $"serving.kserve.io/inferenceservice={name}", cancellationToken: TestContext.Current.CancellationToken);
        foreach (var pod in pods.Items.Where(pod => pod.Metadata.DeletionTimestamp is null))
        {
            await Client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, Namespace, cancellationToken: TestContext.Current.CancellationToken);
        }
    }

    private string DescribeAnnotations()
    {
        try
        {
            return string.Join("; ", Cluster.List("serving.kserve.io/v1beta1", "InferenceService", Namespace)
                .Select(isvc => isvc["metadata"]?["name"] + ": " + (isvc["metadata"]?["annotations"]?.ToJsonString() ?? "{}")));
        }
        catch (InvalidOperationException error)
        {
            return error.Message;
        }
    }

    private async Task RecordPodsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var pod in Cluster.List("v1", "Pod", Namespace))
            {
                if (pod["metadata"]?["labels"]?["serving.kserve.io/inferenceservice"]?.GetValue<string>() is { } isvc && pod["metadata"]?["uid"]?.GetValue<string>() is { } uid)
                {
                    podsSeen.GetOrAdd(isvc, _ => new ConcurrentDictionary<string, byte>(StringComparer.Ordinal)).TryAdd(uid, 0);
                }
            }

            await Task.Delay(10, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopRecorder.CancelAsync();
        await recorder;
        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        Client.Dispose();
        await Cluster.DisposeAsync();
    }
}
