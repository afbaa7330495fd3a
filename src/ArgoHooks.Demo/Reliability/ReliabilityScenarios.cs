using System.Diagnostics;
using System.Globalization;
using ArgoHooks.ClusterEmulator;
using ArgoHooks.Demo.Bench;
using ArgoHooks.Demo.Scenario;

namespace ArgoHooks.Demo.Reliability;

/// <summary>The fault matrix: each scenario injects one kind of trouble and checks the promise that must survive it.</summary>
public static class ReliabilityScenarios
{
    public static readonly IReadOnlyList<string> Names =
        ["api-faults", "service-killed", "duplicate-callers", "growing-artifact", "missing-artifact", "never-ready", "watch-cuts", "kserve-annotation-propagation", "load"];

    /// <summary>The annotations the hook service writes on an InferenceService (not argohooks.io/restarted-at: that one must reach the pods).</summary>
    public static Task<ScenarioResult> RunAsync(string name, ReliabilityOptions options, CancellationToken cancellationToken) => name switch
    {
        "api-faults" => ApiFaultsAsync(options, cancellationToken),
        "service-killed" => ServiceKilledAsync(options, cancellationToken),
        "duplicate-callers" => DuplicateCallersAsync(options, cancellationToken),
        "growing-artifact" => GrowingArtifactAsync(options, cancellationToken),
        "missing-artifact" => MissingArtifactAsync(options, cancellationToken),
        "never-ready" => NeverReadyAsync(options, cancellationToken),
        "watch-cuts" => WatchCutsAsync(options, cancellationToken),
        "kserve-annotation-propagation" => AnnotationPropagationAsync(options, cancellationToken),
        "load" => LoadScenario.RunAsync(options, cancellationToken),
        _ => throw new ArgumentException($"unknown scenario \"{name}\"; known: {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>20 % of every API request fails: 500, 503, 429 (Retry-After), 409, or the connection is reset.</summary>
    public static async Task<ScenarioResult> ApiFaultsAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "faults", options.InferenceServices, ct);
        if (options.FaultSeed is { } seed)
        {
            rig.Cluster.Faults.Reseed(seed);
        }

        var statusShare = options.FaultRate * 0.8;
        var resetShare = options.FaultRate * 0.2 / (1 - statusShare); // evaluated only when the first rule did not fire
        var statuses = rig.Cluster.Faults.Add(new FaultRule { Rate = statusShare, StatusCodes = [500, 503, 429, 409], RetryAfterSeconds = 1 });
        var resets = rig.Cluster.Faults.Add(new FaultRule { Rate = resetShare, ResetConnection = true });
        var requestsBefore = rig.Cluster.Requests.Total;
        var call = rig.CallAsync("faults-run", ct);
        await rig.WriteModelsAsync(ct);
        var exit = await call;
        var requests = rig.Cluster.Requests.Total - requestsBefore;
        var injected = rig.Cluster.Faults.InjectedBy(statuses) + rig.Cluster.Faults.InjectedBy(resets);
        rig.Cluster.Faults.Clear();
        var outcomes = await OutcomesAsync(rig, ct);
        var held = exit == 0 && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1 && outcome.Serves);
        return new ScenarioResult("api-faults",
            $"{options.FaultRate:P0} of API requests fail: status 500/503/429 (Retry-After 1 s)/409 for {statusShare:P0}, connection reset for the rest; {options.InferenceServices} InferenceServices",
            "every InferenceService Verified and serving, exactly 1 restart each, Job exit 0",
            held,
            [
                string.Create(CultureInfo.InvariantCulture, $"{injected} of {requests} API requests failed ({(requests == 0 ? 0 : injected * 100.0 / requests):0}%): {rig.Cluster.Faults.InjectedBy(statuses)} status errors, {rig.Cluster.Faults.InjectedBy(resets)} resets"),
                exit == 0 ? "Job exit 0" : $"Job exit {exit}; it said: {rig.JobTail("faults-run", 12)}",
                Summary(outcomes),
            ],
            [exit], outcomes,
            new Dictionary<string, double> { ["injected"] = injected, ["requests"] = requests });
    }

    /// <summary>The hook service is killed while a run is mid-way (one predictor restarting) and comes back; the Job keeps calling.</summary>
    public static async Task<ScenarioResult> ServiceKilledAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        var count = Math.Max(2, options.InferenceServices);
        await using var rig = await Rig.StartAsync(options, "killed", count, ct);
        var firstHalf = rig.Fleet.Names.Take(count / 2).ToList();
        var call = rig.CallAsync("killed-run", ct);
        await rig.WriteModelsAsync(ct, firstHalf);
        await WaitAsync(() => firstHalf.Any(name => rig.Witness.Phase(name) is "Restarting" or "Verifying") || call.IsCompleted, ct);
        var phasesAtKill = string.Join(", ", rig.Fleet.Names.Select(name => $"{name} {rig.Witness.Phase(name) ?? "-"}"));
        var killedAt = rig.Now;
        await rig.Environment.RestartServiceAsync(options.Downtime, ct);
        await rig.WriteModelsAsync(ct, [.. rig.Fleet.Names.Skip(count / 2)]);
        var exit = await call;
        var outcomes = await OutcomesAsync(rig, ct);
        var held = exit == 0 && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts <= 1 && outcome.Serves);
        return new ScenarioResult("service-killed",
            $"hook service stopped abruptly at {killedAt.TotalSeconds:0.0} s (phases then: {phasesAtKill}), down {options.Downtime.TotalSeconds:0.0} s, started again on the same address; the Job keeps calling",
            "the run completes (Job exit 0), every InferenceService Verified, at most 1 restart each",
            held, [$"Job exit {exit}", Summary(outcomes)], [exit], outcomes, new Dictionary<string, double>());
    }

    /// <summary>10 identical POSTs at once (same runId) plus 3 overlapping Jobs (different run ids) for the same InferenceServices.</summary>
    public static async Task<ScenarioResult> DuplicateCallersAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "dup", options.InferenceServices, ct);
        var posts = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => rig.PostRunAsync("dup-run", rig.Fleet.Names, ct)));
        var jobs = new List<Task<int>>();
        for (var job = 1; job <= 3; job++)
        {
            jobs.Add(rig.CallAsync($"overlapping-job-{job}", ct));
            await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System, ct);
        }

        await rig.WriteModelsAsync(ct);
        var exits = await Task.WhenAll(jobs);
        var dupState = await rig.WaitRunFinishedAsync("dup-run", ct);
        var outcomes = await OutcomesAsync(rig, ct);
        var created = posts.Count(code => code == 202);
        var joined = posts.Count(code => code == 200);
        var held = created == 1 && joined == 9 && dupState == "Succeeded" && exits.All(exit => exit == 0)
                   && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1 && outcome.Serves);
        return new ScenarioResult("duplicate-callers",
            "10 concurrent identical POST /v1/runs (same runId), then 3 overlapping Jobs (3 run ids, 300 ms apart), all before the models are written",
            "one run created (one 202, nine 200), every run Succeeded, exactly 1 restart per InferenceService",
            held,
            [
                $"POST answers: {string.Join(" ", posts)}; the shared run ended {dupState}",
                $"Job exits: {string.Join(" ", exits)}",
                Summary(outcomes),
            ],
            exits, outcomes,
            new Dictionary<string, double> { ["created"] = created, ["joined"] = joined, ["sharedRunSucceeded"] = dupState == "Succeeded" ? 1 : 0 });
    }

    /// <summary>A model file that keeps growing (a slow copy) for a long time: nothing may restart before it is complete.</summary>
    public static async Task<ScenarioResult> GrowingArtifactAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        // A settle interval of at least 1 s and a write every tenth of it: the file never stays unchanged long enough
        // until the copy ends, even when a busy machine delays the writer by several hundred milliseconds.
        var settle = options.SettleInterval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : options.SettleInterval;
        await using var rig = await Rig.StartAsync(options, "grow", 1, ct,
            settings: new Dictionary<string, string> { ["ArgoHooks:Artifacts:SettleInterval"] = settle.ToString("c", CultureInfo.InvariantCulture) });
        var name = rig.Fleet.Names[0];
        var call = rig.CallAsync("grow-run", ct);
        var pause = settle / 10;
        var chunks = Math.Max(2, (int)(options.GrowDuration / pause) + 1);
        var content = Fleet.ModelBytes(name, 1, size: chunks * 4096);
        var lastWrite = await Fleet.WriteOneAsync(rig.Fleet.ArtifactPath(rig.Cluster, name), content, chunks, options.GrowDuration, TimeProvider.System, ct);
        var completeAt = TimeSpan.FromSeconds((lastWrite - rig.Epoch) / (double)TimeProvider.System.TimestampFrequency);
        var exit = await call;
        var outcomes = await OutcomesAsync(rig, ct);
        var pods = rig.Witness.PodTimes(name);
        var restartsBeforeComplete = pods.Skip(1).Count(at => at < completeAt);
        var finalDigest = Fleet.Digest(content);
        var loaded = rig.Cluster.ModelServers.Where(server => server.ModelName == name && server.State == ModelServerState.Running).Select(server => server.LoadedModelDigest).ToList();
        var outcome = outcomes[name];
        var held = exit == 0 && restartsBeforeComplete == 0 && outcome.Restarts == 1 && outcome.Digest == finalDigest
                   && loaded.Count > 0 && loaded.All(digest => digest == finalDigest);
        return new ScenarioResult("growing-artifact",
            $"model.pkl written in {chunks} pieces over {options.GrowDuration.TotalSeconds:0.#} s (a write every {pause.TotalMilliseconds:0} ms, settle interval {settle.TotalMilliseconds:0} ms)",
            "no restart before the file is complete; the verified digest (and the loaded model) is the final file's",
            held,
            [
                string.Create(CultureInfo.InvariantCulture, $"file complete at {completeAt.TotalSeconds:0.0} s; predictor pods appeared at {string.Join(", ", pods.Select(at => $"{at.TotalSeconds:0.0} s"))}"),
                $"verified digest {Short(outcome.Digest)}, final file {Short(finalDigest)}, loaded by the running pod {string.Join(", ", loaded.Select(Short))}",
                $"Job exit {exit}; {Summary(outcomes)}",
            ],
            [exit], outcomes,
            new Dictionary<string, double> { ["restartsBeforeComplete"] = restartsBeforeComplete, ["digestMatches"] = outcome.Digest == finalDigest ? 1 : 0, ["loadedMatches"] = loaded.Count > 0 && loaded.All(digest => digest == finalDigest) ? 1 : 0 });
    }

    /// <summary>The model is never written: the run must fail in time, the Job exit 1, Argo CD show Degraded with a message that says what to do.</summary>
    public static async Task<ScenarioResult> MissingArtifactAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "missing", 1, ct);
        var name = rig.Fleet.Names[0];
        var started = Stopwatch.GetTimestamp();
        var exit = await rig.CallAsync("missing-run", ct, artifactTimeoutSeconds: options.ArtifactTimeoutSeconds);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcome = (await OutcomesAsync(rig, ct))[name];
        var held = exit == 1 && outcome.Phase == "Failed" && outcome.Health == "Degraded" && outcome.Restarts == 0
                   && !string.IsNullOrWhiteSpace(outcome.HealthMessage) && outcome.HealthMessage.Contains($"pvc://{ReliabilityOptions.Claim}/{name}", StringComparison.Ordinal);
        return new ScenarioResult("missing-artifact",
            $"model.pkl never written; artifact timeout {options.ArtifactTimeoutSeconds} s",
            "Failed within the timeout, Job exit 1, health.lua Degraded with a message naming the storage location and what to check, no restart",
            held,
            [
                string.Create(CultureInfo.InvariantCulture, $"Job exit {exit} after {elapsed.TotalSeconds:0.0} s (timeout {options.ArtifactTimeoutSeconds} s)"),
                $"phase {outcome.Phase}; Argo CD health {outcome.Health}: \"{outcome.HealthMessage}\"; restarts {outcome.Restarts}",
            ],
            [exit], new Dictionary<string, InferenceServiceOutcome> { [name] = outcome },
            new Dictionary<string, double> { ["seconds"] = elapsed.TotalSeconds });
    }

    /// <summary>After the restart the new predictor never becomes ready: the Deployment's progress deadline must end the run.</summary>
    public static async Task<ScenarioResult> NeverReadyAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "stuck", 1, ct, emulator => emulator.ProgressDeadline = options.ProgressDeadline);
        var name = rig.Fleet.Names[0];
        rig.Cluster.Controllers.PredictorStartupDelay = TimeSpan.FromDays(1); // pods created from now on never start
        var started = Stopwatch.GetTimestamp();
        var call = rig.CallAsync("stuck-run", ct);
        await rig.WriteModelsAsync(ct);
        var exit = await call;
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcome = (await OutcomesAsync(rig, ct))[name];
        var held = exit == 1 && outcome.Phase == "Failed" && outcome.Message?.Contains("ProgressDeadlineExceeded", StringComparison.Ordinal) == true
                   && outcome.Health == "Degraded" && outcome.Restarts == 1;
        return new ScenarioResult("never-ready",
            $"predictor pods created after the restart never start; Deployment progress deadline {options.ProgressDeadline.TotalSeconds:0} s",
            "Failed with ProgressDeadlineExceeded, Job exit 1, Degraded, exactly the 1 restart — bounded by the deadline, not the 10-minute rollout timeout",
            held,
            [
                string.Create(CultureInfo.InvariantCulture, $"Job exit {exit} after {elapsed.TotalSeconds:0.0} s"),
                $"phase {outcome.Phase}: \"{outcome.Message}\"; health {outcome.Health}; restarts {outcome.Restarts}",
            ],
            [exit], new Dictionary<string, InferenceServiceOutcome> { [name] = outcome },
            new Dictionary<string, double> { ["seconds"] = elapsed.TotalSeconds });
    }

    /// <summary>Every open watch is cut every 50 ms, and the watch history is compacted (resuming gets 410 Gone).</summary>
    public static async Task<ScenarioResult> WatchCutsAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        await using var rig = await Rig.StartAsync(options, "cuts", options.InferenceServices, ct);
        var watchesBefore = rig.Cluster.Requests.Count("watch");
        var requestsBefore = rig.Cluster.Requests.Snapshot();
        var call = rig.CallAsync("cuts-run", ct);
        await rig.WriteModelsAsync(ct);
        int cut = 0, compactions = 0;
        for (var round = 0; !call.IsCompleted; round++)
        {
            cut += rig.Cluster.Faults.CutWatches();
            if (round % 6 == 5)
            {
                rig.Cluster.Faults.CompactHistory();
                compactions++;
            }

            await Task.WhenAny(call, Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct));
        }

        var exit = await call;
        var watches = rig.Cluster.Requests.Count("watch") - watchesBefore;
        var byRequest = string.Join(", ", Stats.Difference(requestsBefore, rig.Cluster.Requests.Snapshot())
            .OrderByDescending(pair => pair.Value).Take(6).Select(pair => $"{pair.Key.Verb} {pair.Key.Resource} {pair.Value}"));
        var outcomes = await OutcomesAsync(rig, ct);
        var held = exit == 0 && outcomes.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1 && outcome.Serves);
        return new ScenarioResult("watch-cuts",
            "every open watch cut every 50 ms; the watch history compacted every 300 ms (a resumed watch gets 410 Gone)",
            "recovered: every InferenceService Verified, exactly 1 restart each, Job exit 0",
            held,
            [$"{cut} watch streams cut, {compactions} compactions, {watches} watches opened", $"API requests meanwhile: {byRequest}", $"Job exit {exit}", Summary(outcomes)],
            [exit], outcomes,
            new Dictionary<string, double> { ["cut"] = cut, ["watches"] = watches, ["compactions"] = compactions });
    }

    /// <summary>
    /// Real KServe copies InferenceService annotations into the predictor pod template. With the hook service's keys in
    /// serviceAnnotationDisallowedList (the install step) a run must still restart each predictor exactly once; without
    /// them every phase write rolls the pods — measured and printed, bounded by a short deadline.
    /// </summary>
    public static async Task<ScenarioResult> AnnotationPropagationAsync(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        using var timeout = Bound(options, cancellationToken);
        var ct = timeout.Token;
        IReadOnlyDictionary<string, InferenceServiceOutcome> configured;
        int configuredExit;
        await using (var rig = await Rig.StartAsync(options, "kept", options.InferenceServices, ct, emulator => emulator.AsInstalled()))
        {
            var call = rig.CallAsync("kept-run", ct);
            await rig.WriteModelsAsync(ct);
            configuredExit = await call;
            configured = await OutcomesAsync(rig, ct);
        }

        // Without the install step: bounded, because every phase write starts another rollout.
        var bound = options.PredictorStartupDelay * 10 + options.SettleInterval * 4;
        IReadOnlyDictionary<string, InferenceServiceOutcome> unconfigured;
        int unconfiguredExit;
        await using (var rig = await Rig.StartAsync(options, "rolled", 1, ct, emulator => emulator.KServePropagatesInferenceServiceAnnotations = true))
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(bound);
            var call = rig.CallAsync("rolled-run", limit.Token);
            await rig.WriteModelsAsync(ct);
            try
            {
                unconfiguredExit = await call;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                unconfiguredExit = -1; // still running at the bound
            }

            // The last phase writes (Verified) roll the pods once more after the run: let those rollouts show.
            await Task.Delay(options.PredictorStartupDelay * 3, TimeProvider.System, ct);
            unconfigured = await OutcomesAsync(rig, ct);
        }

        var held = configuredExit == 0 && configured.Values.All(outcome => outcome.Phase == "Verified" && outcome.Restarts == 1 && outcome.Serves);
        var rolled = unconfigured.Values.Single();
        return new ScenarioResult("kserve-annotation-propagation",
            "KServe copies InferenceService annotations into the predictor pod template (as the real controller does); the hook service's keys in serviceAnnotationDisallowedList, then (for comparison) not",
            "with the keys disallowed: every InferenceService Verified, exactly 1 restart each, Job exit 0",
            held,
            [
                $"keys disallowed: Job exit {configuredExit}; {Summary(configured)}",
                string.Create(CultureInfo.InvariantCulture, $"keys NOT disallowed (1 InferenceService, bounded at {bound.TotalSeconds:0.#} s, counted {(options.PredictorStartupDelay * 3).TotalSeconds:0.#} s after the run): Job {(unconfiguredExit < 0 ? "still running" : $"exit {unconfiguredExit}")}, phase {rolled.Phase ?? "(none)"}, {rolled.Restarts} restarts seen in the cluster"),
            ],
            [configuredExit], configured,
            new Dictionary<string, double> { ["unconfiguredRestarts"] = rolled.Restarts, ["unconfiguredExit"] = unconfiguredExit });
    }

    internal static async Task<IReadOnlyDictionary<string, InferenceServiceOutcome>> OutcomesAsync(Rig rig, CancellationToken cancellationToken)
    {
        var outcomes = new Dictionary<string, InferenceServiceOutcome>(StringComparer.Ordinal);
        foreach (var name in rig.Fleet.Names)
        {
            var health = rig.Health(name);
            outcomes[name] = new InferenceServiceOutcome(name,
                rig.Annotation(name, "argohooks.io/phase"), rig.Annotation(name, "argohooks.io/message"), rig.Annotation(name, "argohooks.io/artifact-digest"),
                rig.Restarts(name), await rig.ServesAsync(name, cancellationToken), health.Status, health.Message);
        }

        return outcomes;
    }

    internal static string Summary(IReadOnlyDictionary<string, InferenceServiceOutcome> outcomes) =>
        "phases " + string.Join(", ", outcomes.Values.GroupBy(outcome => outcome.Phase ?? "(none)").Select(group => $"{group.Key} {group.Count()}"))
        + "; restarts (pods seen in the cluster) " + string.Join(" ", outcomes.Values.Select(outcome => outcome.Restarts))
        + "; model probe 200 on " + outcomes.Values.Count(outcome => outcome.Serves) + "/" + outcomes.Count;

    internal static CancellationTokenSource Bound(ReliabilityOptions options, CancellationToken cancellationToken)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ScenarioTimeout);
        return timeout;
    }

    internal static async Task WaitAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System, cancellationToken);
        }
    }

    private static string Short(string? digest) => digest is { Length: > 19 } ? digest[..19] : digest ?? "(none)";
}
