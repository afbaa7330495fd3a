using System.CommandLine;
using System.Globalization;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Baseline;
using ArgoHooks.Demo.Scenario;
using ArgoHooks.HookService.Cli;
using k8s;

namespace ArgoHooks.Demo.Bench;

/// <summary>What one contender did on one fleet, every time relative to the same epoch.</summary>
public sealed record ContenderRun(
    string Contender,
    int Size,
    IReadOnlyDictionary<string, TimeSpan> StableAt,
    IReadOnlyDictionary<string, TimeSpan?> DetectedAt,
    IReadOnlyDictionary<string, TimeSpan?> DoneAt,
    IReadOnlyDictionary<RequestKey, long> Requests,
    IReadOnlyDictionary<RequestKey, long> RequestsWhileWaiting,
    TimeSpan WaitingWindow,
    IReadOnlyDictionary<string, int> Restarts,
    int Done,
    int ExitCode,
    int? DoneWhileProbeFailed,
    int DoneWithPartialModel)
{
    public TimeSpan LastStable => StableAt.Values.Max();

    /// <summary>Last artifact stable → every model done; null when one never got done.</summary>
    public TimeSpan? LastStableToAllDone =>
        DoneAt.Values.All(at => at is not null) ? DoneAt.Values.Max()!.Value - LastStable : null;

    public IEnumerable<double> DetectionSeconds =>
        StableAt.Where(pair => DetectedAt.GetValueOrDefault(pair.Key) is not null)
            .Select(pair => (DetectedAt[pair.Key]!.Value - pair.Value).TotalSeconds);

    public double RequestsPerInferenceService => Requests.Values.Sum() / (double)Size;
}

/// <summary>One repetition of each contender on its own emulator with identical inputs.</summary>
public static class Contenders
{
    public static EmulatorOptions Emulator(TimeSpan startupDelay)
    {
        HostFileWatchers.Disable();
        return new()
        {
            PredictorStartupDelay = startupDelay,
            Namespaces = [BenchOptions.Namespace],
        };
    }

    public static Dictionary<string, string> ServiceSettings(BenchOptions options)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.SettleInterval is { } settle)
        {
            settings["ArgoHooks:Artifacts:SettleInterval"] = settle.ToString("c", CultureInfo.InvariantCulture);
        }

        if (options.PollInterval is { } poll)
        {
            settings["ArgoHooks:Artifacts:PollInterval"] = poll.ToString("c", CultureInfo.InvariantCulture);
        }

        if (options.MaxParallel is { } parallel)
        {
            settings["ArgoHooks:Runs:MaxParallelInferenceServices"] = parallel.ToString(CultureInfo.InvariantCulture);
        }

        return settings;
    }

    public static async Task<ContenderRun> ArgoHooksAsync(BenchOptions options, int size, int round, CancellationToken cancellationToken)
    {
        await using var environment = await HookServiceUnderTest.StartAsync(
            BenchOptions.Namespace, BenchOptions.Claim, Emulator(options.PredictorStartupDelay), ServiceSettings(options), cancellationToken);
        return await DriveArgoHooksAsync(environment.Cluster, environment.BaseAddress, environment.TokenFile, options, size, round, cancellationToken);
    }

    /// <summary>Drives one run of a hook service (in-process or a child process) over a fresh fleet on its emulator.</summary>
    public static async Task<ContenderRun> DriveArgoHooksAsync(
        EmulatedCluster cluster, Uri service, string tokenFile, BenchOptions options, int size, int round, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RunTimeout);
        var ct = timeout.Token;
        var time = TimeProvider.System;
        var fleet = Fleet.Numbered(BenchOptions.Namespace, BenchOptions.Claim, size);
        await fleet.CreateAsync(cluster, TimeSpan.FromMinutes(2), ct);

        var epoch = time.GetTimestamp();
        await using var witness = new ClusterWitness(cluster, fleet.Namespace, time, epoch, options.WitnessInterval);
        var before = cluster.Requests.Snapshot();
        var runId = string.Create(CultureInfo.InvariantCulture, $"bench-{size}-{round}");
        var call = CallAsync(service, tokenFile, fleet, runId, ct);

        // Everyone the run works on at once waits for its artifact: from then on, any API request is polling.
        var parallel = options.MaxParallel ?? 8;
        await WaitAsync(() => fleet.Names.Count(name => witness.Phase(name) == "AwaitingArtifact") >= Math.Min(size, parallel) || call.IsCompleted, ct);
        var (waiting, window) = await QuietWindowAsync(cluster, options.QuietPeriod, ct);

        var stable = await fleet.WriteArtifactsAsync(cluster, round, options.Stagger, options.WriteDuration, options.WriteChunks, time, epoch, ct);
        var exit = await call;
        witness.Refresh();
        var requests = Stats.Difference(before, cluster.Requests.Snapshot());
        var detected = fleet.Names.ToDictionary(name => name, name => witness.FirstSeenAny(name, "Restarting", "Verifying", "Verified"), StringComparer.Ordinal);
        var verified = fleet.Names.ToDictionary(name => name, name => witness.Phase(name) == "Verified" ? witness.FirstSeen(name, "Verified") : null, StringComparer.Ordinal);
        return new ContenderRun("ArgoHooks", size, stable, detected, verified, requests, waiting, window,
            fleet.Names.ToDictionary(name => name, name => witness.PodsCreated(name) - 1, StringComparer.Ordinal),
            verified.Values.Count(at => at is not null), exit, null,
            fleet.Names.Count(name => verified[name] is not null && !ModelProbe.LoadedFinal(cluster, fleet.Namespace, name, round)));
    }

    public static async Task<ContenderRun> BaselineAsync(BenchOptions options, int size, int round, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.RunTimeout);
        var ct = timeout.Token;
        var time = TimeProvider.System;
        await using var cluster = await EmulatedCluster.StartAsync(Emulator(options.PredictorStartupDelay), ct);
        var fleet = Fleet.Numbered(BenchOptions.Namespace, BenchOptions.Claim, size);
        await fleet.CreateAsync(cluster, TimeSpan.FromMinutes(2), ct);
        using var client = new Kubernetes(new KubernetesClientConfiguration { Host = cluster.BaseAddress.ToString(), AccessToken = cluster.AdminToken });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };

        var epoch = time.GetTimestamp();
        await using var witness = new ClusterWitness(cluster, fleet.Namespace, time, epoch, options.WitnessInterval);
        var before = cluster.Requests.Snapshot();
        var probeFailed = 0;
        var partial = 0;
        var baseline = new SeedBaseline(client, fleet.Namespace, cluster.Storage.ClaimDirectory(fleet.Claim),
            new SeedBaselineOptions { PollInterval = options.BaselinePollInterval }, time, epoch);
        var running = baseline.RunAsync(fleet.Names, async (name, token) =>
        {
            if (!await ModelProbe.AllServeAsync(cluster, http, fleet.Namespace, name, token))
            {
                Interlocked.Increment(ref probeFailed);
            }

            if (!ModelProbe.LoadedFinal(cluster, fleet.Namespace, name, round))
            {
                Interlocked.Increment(ref partial);
            }
        }, ct);

        await Task.Delay(TimeSpan.FromMilliseconds(200), time, ct); // the baseline's first look has happened: it sleeps now
        var (waiting, window) = await QuietWindowAsync(cluster, options.QuietPeriod, ct);
        var stable = await fleet.WriteArtifactsAsync(cluster, round, options.Stagger, options.WriteDuration, options.WriteChunks, time, epoch, ct);
        var results = await running;
        witness.Refresh();
        var requests = Stats.Difference(before, cluster.Requests.Snapshot());
        return new ContenderRun("baseline", size, stable,
            results.ToDictionary(result => result.Name, result => (TimeSpan?)result.RestartedAt, StringComparer.Ordinal),
            results.ToDictionary(result => result.Name, result => result.Error is null ? (TimeSpan?)result.DoneAt : null, StringComparer.Ordinal),
            requests, waiting, window,
            fleet.Names.ToDictionary(name => name, name => witness.PodsCreated(name) - 1, StringComparer.Ordinal),
            results.Count(result => result.Error is null), results.Any(result => result.Error is not null) ? 1 : 0, probeFailed, partial);
    }

    private static async Task<(IReadOnlyDictionary<RequestKey, long> Requests, TimeSpan Window)> QuietWindowAsync(
        EmulatedCluster cluster, TimeSpan period, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken); // let the last AwaitingArtifact write land
        var start = cluster.Requests.Snapshot();
        var started = time.GetTimestamp();
        await Task.Delay(period, time, cancellationToken);
        return (Stats.Difference(start, cluster.Requests.Snapshot()), time.GetElapsedTime(started));
    }

    private static async Task WaitAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, cancellationToken);
        }
    }

    /// <summary>The wave-5 Job's real command line, run in-process.</summary>
    public static async Task<int> CallAsync(Uri service, string tokenFile, Fleet fleet, string runId, CancellationToken cancellationToken, TextWriter? output = null)
    {
        var root = new RootCommand { CallCommand.Create(TimeProvider.System) };
        string[] args =
        [
            "call", "--url", service.ToString(), "--namespace", fleet.Namespace, "--token-file", tokenFile,
            "--run-id", runId, "--wait-seconds", "10",
            .. fleet.Names.SelectMany(name => new[] { "--inference-service", name }),
        ];
        return await CommandLine.InvokeAsync(root, args, output ?? TextWriter.Null, output ?? TextWriter.Null, cancellationToken);
    }
}

/// <summary>The model server's own probe, asked of every running predictor pod of an InferenceService (not being deleted).</summary>
public static class ModelProbe
{
    public static async Task<bool> AllServeAsync(EmulatedCluster cluster, HttpClient http, string @namespace, string name, CancellationToken cancellationToken)
    {
        var codes = await CodesAsync(cluster, http, @namespace, name, cancellationToken);
        return codes.Count > 0 && codes.All(code => code == 200);
    }

    /// <summary>Whether every live, running predictor pod loaded the complete model file of this round (not a partial copy).</summary>
    public static bool LoadedFinal(EmulatedCluster cluster, string @namespace, string name, int round)
    {
        var final = Fleet.Digest(Fleet.ModelBytes(name, round));
        var loaded = LiveServers(cluster, @namespace, name).Select(server => server.LoadedModelDigest).ToList();
        return loaded.Count > 0 && loaded.All(digest => digest == final);
    }

    private static IEnumerable<SimulatedModelServer> LiveServers(EmulatedCluster cluster, string @namespace, string name)
    {
        foreach (var pod in cluster.List("v1", "Pod", @namespace))
        {
            if (pod["metadata"]?["labels"]?[ClusterWitness.InferenceServiceLabel]?.GetValue<string>() == name
                && pod["metadata"]?["deletionTimestamp"] is null
                && cluster.Controllers.FindModelServer(@namespace, pod["metadata"]!["name"]!.GetValue<string>()) is { State: ModelServerState.Running } server)
            {
                yield return server;
            }
        }
    }

    /// <summary>The status code of each live pod's answer to GET /v1/models/NAME (0 when it did not answer).</summary>
    public static async Task<IReadOnlyList<int>> CodesAsync(EmulatedCluster cluster, HttpClient http, string @namespace, string name, CancellationToken cancellationToken)
    {
        var codes = new List<int>();
        foreach (var server in LiveServers(cluster, @namespace, name).ToList())
        {
            try
            {
                using var response = await http.GetAsync(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{server.Port}/v1/models/{name}"), cancellationToken);
                codes.Add((int)response.StatusCode);
            }
            catch (HttpRequestException)
            {
                codes.Add(0); // refused or reset: the pod is not serving — an answer, not a harness failure
            }
        }

        return codes;
    }
}
