using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Health;
using ArgoHooks.HookService.Cli;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Runs;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>
/// The emulated cluster plus the real hook service (real adapters, real Kestrel on 127.0.0.1) pointed at it, with
/// security on: the caller is a ServiceAccount token (audience argohooks) allowed to patch InferenceServices.
/// A recorder notes every predictor pod ever created, so tests count restarts from the cluster itself.
/// </summary>
public sealed class EmulatedService : IAsyncDisposable
{
    public const string Namespace = "self-healing-platform";
    public const string Claim = "model-storage-pvc";
    public const string CallerToken = "model-verifier-token";
    public const string ForbiddenToken = "bystander-token";

    private readonly CancellationTokenSource stopRecorder = new();
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> podsSeen = new(StringComparer.Ordinal);
    private readonly Task recorder;
    private readonly Dictionary<string, string> settings;
    private int port;

    private EmulatedService(EmulatedCluster cluster, Dictionary<string, string> settings)
    {
        Cluster = cluster;
        this.settings = settings;
        recorder = RecordPodsAsync(stopRecorder.Token);
    }

    public EmulatedCluster Cluster { get; }
    public ServiceHost Host { get; private set; } = null!;
    public Uri BaseAddress => Host.BaseAddress;
    public string TokenFile { get; private set; } = "";

    public static async Task<EmulatedService> StartAsync(string strategy = "inferenceservice", Action<EmulatorOptions>? emulator = null, Dictionary<string, string>? extra = null)
    {
        var options = new EmulatorOptions
        {
            PredictorStartupDelay = TimeSpan.FromMilliseconds(150),
            ControllerResyncInterval = TimeSpan.FromMilliseconds(200),
            Namespaces = [Namespace],
        };
        emulator?.Invoke(options);
        var cluster = await EmulatedCluster.StartAsync(options, TestContext.Current.CancellationToken);
        cluster.Access.AddServiceAccountToken(CallerToken, Namespace, "model-verifier", ["argohooks"]);
        cluster.Access.Allow($"system:serviceaccount:{Namespace}:model-verifier", "patch", "serving.kserve.io", "inferenceservices", Namespace);
        cluster.Access.AddServiceAccountToken(ForbiddenToken, Namespace, "bystander", ["argohooks"]);
        cluster.Storage.ClaimDirectory(Claim);
        var settings = FastSettings.Service(cluster);
        settings["ArgoHooks:Kubernetes:RestartStrategy"] = strategy;
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }

        var service = new EmulatedService(cluster, settings);
        service.TokenFile = Path.Combine(cluster.Storage.Root, "caller-token");
        await File.WriteAllTextAsync(service.TokenFile, CallerToken, TestContext.Current.CancellationToken);
        await service.StartHostAsync();
        return service;
    }

    /// <summary>Starts the hook service (again, on the same port after <see cref="StopHostAsync"/>).</summary>
    public async Task StartHostAsync()
    {
        Host = await ServiceHost.StartAsync(settings, port: port);
        port = Host.BaseAddress.Port;
    }

    public async Task StopHostAsync() => await Host.DisposeAsync();

    public string ModelFolder(string isvc)
    {
        var folder = Path.Combine(Cluster.Storage.ClaimDirectory(Claim), isvc);
        Directory.CreateDirectory(folder);
        return folder;
    }

    public string ModelFile(string isvc) => Path.Combine(ModelFolder(isvc), "model.pkl");

    /// <summary>Applies the InferenceService and waits until its predictor runs, without a model (it started first).</summary>
    public async Task CreatePredictorBeforeModelAsync(string name, string mode = "RawDeployment", IEnumerable<string>? annotations = null)
    {
        ModelFolder(name);
        await Cluster.ApplyAsync(Kubernetes.EmulatorHarness.InferenceService(name, mode, Namespace, annotations), TestContext.Current.CancellationToken);
        await Cluster.WaitUntilAsync(c => c.ModelServers.Any(server => server.Namespace == Namespace && server.ModelName == name && server.State == ModelServerState.Running),
            TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
    }

    /// <summary>Predictor restarts seen so far: pods ever created for the InferenceService, minus the first one (one replica).</summary>
    public int RestartsOf(string name) => Math.Max(0, (podsSeen.TryGetValue(name, out var pods) ? pods.Count : 0) - 1);

    public IReadOnlyDictionary<string, string> Annotations(string name) =>
        (Isvc(name)["metadata"]?["annotations"] as JsonObject ?? [])
            .ToDictionary(pair => pair.Key, pair => pair.Value?.GetValue<string>() ?? "", StringComparer.Ordinal);

    public JsonObject Isvc(string name) =>
        Cluster.Get("serving.kserve.io/v1beta1", "InferenceService", Namespace, name) ?? throw new InvalidOperationException($"{name} does not exist");

    public HealthStatus Health(string name) => new LuaHealthEvaluator().Evaluate(HealthScript.InferenceService, Isvc(name));

    /// <summary>GET /v1/models/&lt;name&gt; on every running model server of the InferenceService, as the status codes.</summary>
    public async Task<IReadOnlyList<int>> ProbeAllAsync(string name)
    {
        using var http = new HttpClient();
        var codes = new List<int>();
        foreach (var server in Cluster.ModelServers.Where(server => server.Namespace == Namespace && server.ModelName == name && server.State == ModelServerState.Running))
        {
            using var response = await http.GetAsync($"http://127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}/v1/models/{name}", TestContext.Current.CancellationToken);
            codes.Add((int)response.StatusCode);
        }

        return codes;
    }

    /// <summary>Runs `argohooks call` in-process against this service; returns the exit code and what it printed.</summary>
    public async Task<(int Exit, string Output)> CallAsync(params string[] arguments)
    {
        var root = new System.CommandLine.RootCommand { CallCommand.Create(TimeProvider.System) };
        using var output = new StringWriter();
        using var error = new StringWriter();
        string[] args = ["call", "--url", BaseAddress.ToString(), "--namespace", Namespace, "--token-file", TokenFile, .. arguments];
        var exit = await CommandLine.InvokeAsync(root, args, output, error, TestContext.Current.CancellationToken);
        return (exit, output + error.ToString());
    }

    public async Task<RunView> WaitRunAsync(string runId) => await Api.WaitFinishedAsync(Host.Client, runId, CallerToken);

    private async Task RecordPodsAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            foreach (var pod in Cluster.List("v1", "Pod", Namespace))
            {
                var labels = pod["metadata"]?["labels"] as JsonObject;
                if (labels?["serving.kserve.io/inferenceservice"]?.GetValue<string>() is { } isvc && pod["metadata"]?["uid"]?.GetValue<string>() is { } uid)
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
        await Host.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
