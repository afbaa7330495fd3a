using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using ArgoHooks.HookService.Predictors;
using ArgoHooks.HookService.Security;
using k8s;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Tests.Kubernetes;

/// <summary>An emulated cluster plus the adapters wired exactly as the service wires them, pointed at it.</summary>
public sealed class EmulatorHarness : IAsyncDisposable
{
    public const string Namespace = "team-a";

    private EmulatorHarness(EmulatedCluster cluster, ServiceProvider services)
    {
        Cluster = cluster;
        Services = services;
    }

    public EmulatedCluster Cluster { get; }

    public ServiceProvider Services { get; }

    public IKubernetes Client => Services.GetRequiredService<IKubernetes>();

    public IInferenceServiceStore Store => Services.GetRequiredService<IInferenceServiceStore>();

    public IRolloutWatcher Rollouts => Services.GetRequiredService<IRolloutWatcher>();

    public IPredictorPods Pods => Services.GetRequiredService<IPredictorPods>();

    public KubernetesApiMetrics Metrics => Services.GetRequiredService<KubernetesApiMetrics>();

    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public static async Task<EmulatorHarness> StartAsync(
        string strategy = RestartStrategies.InferenceService,
        Action<EmulatorOptions>? emulator = null,
        Dictionary<string, string?>? settings = null)
    {
        var options = new EmulatorOptions
        {
            PredictorStartupDelay = TimeSpan.FromMilliseconds(150),
            ControllerResyncInterval = TimeSpan.FromMilliseconds(200),
            Namespaces = [Namespace, "team-b"],
        };
        emulator?.Invoke(options);
        var cluster = await EmulatedCluster.StartAsync(options, TestContext.Current.CancellationToken);
        var values = Fakes.FastSettings.Kubernetes(cluster).ToDictionary(setting => setting.Key, string? (setting) => setting.Value, StringComparer.Ordinal);
        values["ArgoHooks:Kubernetes:RestartStrategy"] = strategy;
        values["ArgoHooks:Kubernetes:ReportingInstance"] = "hook-service-test";
        foreach (var (key, value) in settings ?? [])
        {
            values[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddKubernetesAdapters(configuration)
            .AddPredictorProbes(configuration)
            .AddCallerAuthorization(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        return new EmulatorHarness(cluster, services);
    }

    /// <param name="extraAnnotations">More metadata.annotations, as "key: value" lines.</param>
    /// <param name="predictorYaml">The spec.predictor body (4-space indented lines); default: a sklearn model on pvc://model-storage-pvc/&lt;name&gt;.</param>
    public static string InferenceService(string name, string mode = "RawDeployment", string @namespace = Namespace, IEnumerable<string>? extraAnnotations = null, string? predictorYaml = null)
    {
        var lines = new List<string>
        {
            "apiVersion: serving.kserve.io/v1beta1",
            "kind: InferenceService",
            "metadata:",
            $"  name: {name}",
            $"  namespace: {@namespace}",
            "  annotations:",
            $"    serving.kserve.io/deploymentMode: {mode}",
            "    team.example.com/owner: data-science",
        };
        lines.AddRange((extraAnnotations ?? []).Select(line => "    " + line));
        lines.Add("spec:");
        lines.Add("  predictor:");
        lines.Add(predictorYaml ?? $"""
                model:
                  modelFormat:
                    name: sklearn
                  storageUri: pvc://model-storage-pvc/{name}
            """);
        return string.Join('\n', lines) + "\n";
    }

    /// <summary>Applies an InferenceService and waits until its first rollout is complete.</summary>
    public async Task<InferenceServiceSnapshot> CreateReadyAsync(string name, string mode = "RawDeployment", string @namespace = Namespace)
    {
        await Cluster.ApplyAsync(InferenceService(name, mode, @namespace), TestContext.Current.CancellationToken);
        var snapshot = await Store.GetAsync(@namespace, name, TestContext.Current.CancellationToken) ?? throw new InvalidOperationException("not created");
        var rollout = await Rollouts.WaitAsync(snapshot, null, TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
        Assert.Equal(RolloutResult.Complete, rollout.Result);
        return (await Store.GetAsync(@namespace, name, TestContext.Current.CancellationToken))!;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
