using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Bench;
using ArgoHooks.Demo.Scenario;
using ArgoHooks.Health;

namespace ArgoHooks.Demo.Reliability;

/// <summary>One scenario's world: emulator + real hook service, a fleet created before its models, a witness of the cluster.</summary>
internal sealed class Rig : IAsyncDisposable
{
    private readonly TimeProvider time = TimeProvider.System;
    private readonly HttpClient http = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(30) };

    private Rig(HookServiceUnderTest environment, Fleet fleet, ClusterWitness witness, long epoch)
    {
        Environment = environment;
        Fleet = fleet;
        Witness = witness;
        Epoch = epoch;
        Runs = new RunClient(environment.BaseAddress, environment.TokenFile);
    }

    public HookServiceUnderTest Environment { get; }
    public EmulatedCluster Cluster => Environment.Cluster;
    public Fleet Fleet { get; }
    public ClusterWitness Witness { get; }
    public long Epoch { get; }
    public TimeSpan Now => time.GetElapsedTime(Epoch);

    public static async Task<Rig> StartAsync(
        ReliabilityOptions options, string prefix, int count, CancellationToken cancellationToken,
        Action<EmulatorOptions>? emulator = null, IDictionary<string, string>? settings = null)
    {
        HostFileWatchers.Disable();
        var emulatorOptions = new EmulatorOptions
        {
            PredictorStartupDelay = options.PredictorStartupDelay,
            Namespaces = [ReliabilityOptions.Namespace],
        };
        emulator?.Invoke(emulatorOptions);
        var serviceSettings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ArgoHooks:Artifacts:SettleInterval"] = options.SettleInterval.ToString("c", CultureInfo.InvariantCulture),
            ["ArgoHooks:Artifacts:PollInterval"] = options.PollInterval.ToString("c", CultureInfo.InvariantCulture),
            ["ArgoHooks:Runs:VerifyRetryInterval"] = "00:00:00.250",
            ["Logging:LogLevel:Default"] = "Error", // the injected faults make expected warnings; the scenario prints what matters
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            serviceSettings[key] = value;
        }

        var environment = await HookServiceUnderTest.StartAsync(ReliabilityOptions.Namespace, ReliabilityOptions.Claim, emulatorOptions, serviceSettings, cancellationToken);
        try
        {
            var fleet = Fleet.Numbered(ReliabilityOptions.Namespace, ReliabilityOptions.Claim, count, prefix);
            await fleet.CreateAsync(environment.Cluster, TimeSpan.FromMinutes(1), cancellationToken);
            var epoch = TimeProvider.System.GetTimestamp();
            return new Rig(environment, fleet, new ClusterWitness(environment.Cluster, fleet.Namespace, TimeProvider.System, epoch), epoch);
        }
        catch
        {
            await environment.DisposeAsync();
            throw;
        }
    }

    /// <summary>The wave-5 Job (`argohooks call`) with this run id, in-process; returns its exit code.</summary>
    public Task<int> CallAsync(string runId, CancellationToken cancellationToken, IReadOnlyList<string>? names = null, int? artifactTimeoutSeconds = null)
    {
        var output = TextWriter.Synchronized(new StringWriter());
        JobOutputs[runId] = output;
        var root = new System.CommandLine.RootCommand { HookService.Cli.CallCommand.Create(time) };
        List<string> args =
        [
            "call", "--url", Environment.BaseAddress.ToString(), "--namespace", Fleet.Namespace, "--token-file", Environment.TokenFile,
            "--run-id", runId, "--wait-seconds", "5", "--give-up-after", "120",
            .. (names ?? Fleet.Names).SelectMany(name => new[] { "--inference-service", name }),
        ];
        if (artifactTimeoutSeconds is { } seconds)
        {
            args.AddRange(["--artifact-timeout", seconds.ToString(CultureInfo.InvariantCulture)]);
        }

        return HookService.Cli.CommandLine.InvokeAsync(root, [.. args], output, output, cancellationToken);
    }

    /// <summary>What each Job (by run id) printed, stdout and stderr interleaved.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, TextWriter> JobOutputs { get; } = new(StringComparer.Ordinal);

    /// <summary>The last lines a Job printed (for explaining a failure).</summary>
    public string JobTail(string runId, int lines = 6) =>
        JobOutputs.TryGetValue(runId, out var output)
            ? string.Join(" | ", output.ToString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(lines))
            : "";

    /// <summary>Writes every model file at once; returns the bytes per name.</summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> WriteModelsAsync(CancellationToken cancellationToken, IReadOnlyList<string>? names = null, int round = 1)
    {
        var written = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in names ?? Fleet.Names)
        {
            var bytes = Fleet.ModelBytes(name, round);
            await Fleet.WriteOneAsync(Fleet.ArtifactPath(Cluster, name), bytes, 1, TimeSpan.Zero, time, cancellationToken);
            written[name] = bytes;
        }

        return written;
    }

    public RunClient Runs { get; }

    /// <summary>POST /v1/runs as a caller would; returns the status code.</summary>
    public Task<int> PostRunAsync(string runId, IReadOnlyList<string> names, CancellationToken cancellationToken) =>
        Runs.PostRunAsync(Fleet.Namespace, runId, names, cancellationToken);

    /// <summary>GET /v1/runs/{id} (no wait): status code and the run's state (null when not 200).</summary>
    public Task<(int StatusCode, string? State)> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        Runs.GetRunAsync(runId, cancellationToken);

    public async Task<string?> WaitRunFinishedAsync(string runId, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (_, state) = await GetRunAsync(runId, cancellationToken);
            if (state is not null and not "Running")
            {
                return state;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }

    public JsonObject? InferenceService(string name) => Cluster.Get("serving.kserve.io/v1beta1", "InferenceService", Fleet.Namespace, name);

    public string? Annotation(string name, string key) => InferenceService(name)?["metadata"]?["annotations"]?[key]?.GetValue<string>();

    public HealthStatus Health(string name) => new LuaHealthEvaluator(time).Evaluate(HealthScript.InferenceService, InferenceService(name));

    /// <summary>Restarts counted from the cluster: predictor pods ever seen minus the first one.</summary>
    public int Restarts(string name)
    {
        Witness.Refresh();
        return Witness.PodsCreated(name) - 1;
    }

    public async Task<bool> ServesAsync(string name, CancellationToken cancellationToken) =>
        await ModelProbe.AllServeAsync(Cluster, http, Fleet.Namespace, name, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await Witness.DisposeAsync();
        Runs.Dispose();
        http.Dispose();
        await Environment.DisposeAsync();
    }
}
