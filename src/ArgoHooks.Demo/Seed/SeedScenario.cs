using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Scenario;
using ArgoHooks.HookService.Cli;

namespace ArgoHooks.Demo.Seed;

/// <summary>The scenario's outcome: the exit code and, per InferenceService, what Argo CD and the model server said last.</summary>
public sealed record SeedResult(int ExitCode, int CallExitCode, IReadOnlyDictionary<string, SeedVerdict> InferenceServices, IReadOnlyList<TimelineEntry> Timeline);

/// <param name="Restarts">The run's own count of restarts.</param>
/// <param name="PredictorPods">Predictor pods the cluster ran for it over the whole scenario (1 + one per rollout).</param>
public sealed record SeedVerdict(string Health, string HealthMessage, string? Phase, string Probe, int Restarts, int PredictorPods);

/// <summary>
/// Replays the seed's GitOps sync on the emulator: wave 2 creates the InferenceServices (their predictors start
/// with no model), wave 3 writes the models (the second one slowly), wave 5 runs `argohooks call`. Argo CD's
/// health (the real health.lua) and the model probe are printed as they change. Exit 0 only when every
/// InferenceService ends Verified and Healthy and every predictor answers the probe with 200.
/// </summary>
public static class SeedScenario
{
    public static async Task<SeedResult> RunAsync(SeedOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var time = TimeProvider.System;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Timeout);
        var ct = timeout.Token;
        var timeline = new Timeline(output, time);
        var names = SeedOptions.InferenceServices;

        timeline.Write("sync", "", $"emulated cluster starting; namespace {SeedOptions.Namespace}, claim {SeedOptions.Claim}, mode {options.DeploymentMode}, gate {options.Gate}");
        await using var environment = await HookServiceUnderTest.StartAsync(
            SeedOptions.Namespace,
            SeedOptions.Claim,
            new EmulatorOptions
            {
                PredictorStartupDelay = options.PredictorStartupDelay,
                DefaultDeploymentMode = options.DeploymentMode,
                Namespaces = [SeedOptions.Namespace],
                ControllerResyncInterval = TimeSpan.FromMilliseconds(250),
            }.AsInstalled(),
            new Dictionary<string, string>
            {
                ["ArgoHooks:Kubernetes:RestartStrategy"] = options.RestartStrategy,
                ["ArgoHooks:Artifacts:SettleInterval"] = options.SettleInterval.ToString("c", CultureInfo.InvariantCulture),
                ["ArgoHooks:Artifacts:PollInterval"] = "00:00:00.100",
            },
            ct);
        var cluster = environment.Cluster;
        var claimFolder = cluster.Storage.ClaimDirectory(SeedOptions.Claim);
        timeline.Write("sync", "", $"hook service listening on {environment.BaseAddress}");

        await using var observer = new ArgoCdObserver(cluster, SeedOptions.Namespace, names, timeline, time);

        // Wave 2: the InferenceServices. The PVC exists, the model folders are empty: the predictors look once and find nothing.
        timeline.Write("sync", "wave 2", "applying InferenceServices " + string.Join(", ", names));
        foreach (var name in names)
        {
            Directory.CreateDirectory(Path.Combine(claimFolder, name));
            await cluster.ApplyAsync(SeedManifests.InferenceService(name, options), ct);
        }

        if (!await observer.WaitAllHealthyAsync(options.WaveTimeout, ct))
        {
            timeline.Write("sync", "wave 2", $"still not Healthy after {options.WaveTimeout.TotalSeconds:0} s: Argo CD would wait here forever, and the wave-3 Jobs that write the models never start (a deadlock; use the deferred gate for this layout)");
            return await VerdictAsync(environment, observer, timeline, callExit: -1, ct);
        }

        timeline.Write("sync", "wave 2", "every InferenceService is Healthy; Argo CD starts wave 3");

        // Wave 3: the model-writing Jobs. The second writes slowly, in chunks, like a copy from object storage.
        timeline.Write("sync", "wave 3", "model Jobs start writing model.pkl to the PVC");
        var writers = Task.WhenAll(
            WriteModelAsync(Path.Combine(claimFolder, names[0], "model.pkl"), options.FirstModelAfter, chunks: 1, TimeSpan.Zero, timeline, names[0], time, ct),
            WriteModelAsync(Path.Combine(claimFolder, names[1], "model.pkl"), TimeSpan.Zero, options.SecondModelChunks,
                options.SecondModelWriteDuration / Math.Max(1, options.SecondModelChunks), timeline, names[1], time, ct));

        // Wave 5: the verification Job. It is started while the slow writer still writes, to show that a file still
        // being written is never loaded (in a real sync it may also start after wave 3; the outcome is the same).
        timeline.Write("sync", "wave 5", "verification Job runs `argohooks call`");
        var call = CallAsync(environment, timeline, ct);
        await writers;
        var callExit = await call;
        timeline.Write("sync", "wave 5", $"`argohooks call` exited {callExit}");
        return await VerdictAsync(environment, observer, timeline, callExit, ct);
    }

    private static async Task WriteModelAsync(
        string path, TimeSpan after, int chunks, TimeSpan chunkInterval, Timeline timeline, string name, TimeProvider time, CancellationToken cancellationToken)
    {
        await Task.Delay(after, time, cancellationToken);
        timeline.Write("job", name, chunks > 1 ? $"writing model.pkl in {chunks} chunks" : "writing model.pkl");
        await using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                var bytes = new byte[64 * 1024];
                Random.Shared.NextBytes(bytes);
                await file.WriteAsync(bytes, cancellationToken);
                await file.FlushAsync(cancellationToken);
                if (chunk < chunks - 1)
                {
                    await Task.Delay(chunkInterval, time, cancellationToken);
                }
            }
        }

        timeline.Write("job", name, $"model.pkl complete ({new FileInfo(path).Length / 1024} KiB)");
    }

    private static async Task<int> CallAsync(HookServiceUnderTest environment, Timeline timeline, CancellationToken cancellationToken)
    {
        // The real command line of the Job's container, parsed and run in-process.
        var root = new RootCommand { CallCommand.Create(TimeProvider.System) };
        string[] args =
        [
            "call", "--url", environment.BaseAddress.ToString(), "--namespace", SeedOptions.Namespace,
            "--token-file", environment.TokenFile, "--run-id", "seed-sync-1", "--wait-seconds", "5",
            .. SeedOptions.InferenceServices.SelectMany(name => new[] { "--inference-service", name }),
        ];
        await using var output = timeline.LinesOf("call", "");
        await using var error = timeline.LinesOf("call", "stderr");
        return await CommandLine.InvokeAsync(root, args, output, error, cancellationToken);
    }

    private static async Task<SeedResult> VerdictAsync(HookServiceUnderTest environment, ArgoCdObserver observer, Timeline timeline, int callExit, CancellationToken cancellationToken)
    {
        await observer.RefreshAsync(cancellationToken);
        var restarts = await RestartsAsync(environment, cancellationToken);
        var verdicts = new Dictionary<string, SeedVerdict>(StringComparer.Ordinal);
        foreach (var name in SeedOptions.InferenceServices)
        {
            var health = observer.HealthOf(name);
            var phase = observer.InferenceService(name)?["metadata"]?["annotations"]?["argohooks.io/phase"]?.GetValue<string>();
            verdicts[name] = new SeedVerdict(health?.Status ?? "Missing", health?.Message ?? "", phase, observer.ProbesOf(name), restarts.GetValueOrDefault(name), observer.PodsSeen(name));
        }

        var success = callExit == 0 && verdicts.Values.All(verdict =>
            verdict.Health == "Healthy" && verdict.Phase == "Verified" && verdict.Probe.Length > 0
            && verdict.Probe.Split(", ").All(answer => answer == "200"));

        timeline.Write("result", "", success ? "every InferenceService is Verified and Healthy, and every predictor serves its model" : "the scenario did not end Verified and Healthy");
        foreach (var (name, verdict) in verdicts)
        {
            timeline.Write("result", name, $"health {verdict.Health}, phase {verdict.Phase ?? "(none)"}, probe {(verdict.Probe.Length == 0 ? "(no predictor)" : verdict.Probe)}, restarts {verdict.Restarts} (predictor pods over the scenario: {verdict.PredictorPods})");
        }

        return new SeedResult(success ? 0 : 1, callExit, verdicts, timeline.Entries);
    }

    /// <summary>The run's own count of restarts per InferenceService, read back from the service.</summary>
    private static async Task<IReadOnlyDictionary<string, int>> RestartsAsync(HookServiceUnderTest environment, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = environment.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/runs/seed-sync-1");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", (await File.ReadAllTextAsync(environment.TokenFile, cancellationToken)).Trim());
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return new Dictionary<string, int>();
        }

        var run = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return (run?["inferenceServices"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .ToDictionary(item => item["name"]!.GetValue<string>(), item => item["restarts"]?.GetValue<int>() ?? 0, StringComparer.Ordinal);
    }
}
