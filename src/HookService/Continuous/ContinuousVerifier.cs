using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using ArgoHooks.HookService.Observability;
using ArgoHooks.HookService.Runs;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>
/// Keeps opted-in InferenceServices verified without anyone calling: watches InferenceServices and predictor pods,
/// notices new model files, probes periodically, and acts only as the leader. Every restart goes through a run of
/// the <see cref="RunRegistry"/> (so the one <see cref="InferenceServiceHealer"/> algorithm decides, and a run and a
/// continuous action on the same InferenceService share the registry's acting lock), bounded by the guard rails.
/// </summary>
public sealed class ContinuousVerifier(
    IKubernetes client,
    IInferenceServiceStore store,
    IModelProbe probe,
    StorageUriResolver resolver,
    ArtifactWaiter artifacts,
    ArtifactFolderMonitor folders,
    RunRegistry runs,
    KubernetesEventRecorder events,
    IContinuousLeadership leadership,
    ContinuousGuardRails guardRails,
    ContinuousMetrics metrics,
    IOptionsMonitor<ContinuousOptions> options,
    IOptions<KubernetesOptions> kubernetesOptions,
    TimeProvider time,
    ILoggerFactory loggers)
{
    public const string RunPrefix = "continuous-";
    public const string DryRunReason = "DryRun";
    public const string SuppressedReason = "RestartSuppressed";

    private readonly ILogger logger = loggers.CreateLogger<ContinuousVerifier>();
    private readonly ClusterView view = new();
    private readonly ConcurrentDictionary<string, Worker> workers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ArtifactObservation> observed = new(StringComparer.Ordinal);
    // Fingerprint of the folder when an action on it failed: not retried until the folder or a pod changes.
    private readonly ConcurrentDictionary<string, string> failedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> reported = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> restartedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> retryScheduled = new(StringComparer.Ordinal);
    // UIDs of the ready pods when the InferenceService was last verified by this replica: a pod trigger re-verifies others only.
    private readonly ConcurrentDictionary<string, HashSet<string>> verifiedPods = new(StringComparer.Ordinal);
    private CancellationToken stopping;

    private ContinuousOptions Options => options.CurrentValue;

    public ClusterView View => view;

    private sealed class Worker
    {
        public Trigger Pending;
        public bool Running;
        public Task Task = Task.CompletedTask;
    }

    /// <summary>The stable artifact for one folder fingerprint (hashing happens once per change, not per probe).</summary>
    private sealed record ArtifactObservation(string Fingerprint, StableArtifact? Artifact, string? Problem);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        stopping = cancellationToken;
        leadership.BecameLeader += () =>
        {
            foreach (var key in view.InferenceServiceKeys)
            {
                Schedule(key, Trigger.Leadership);
            }
        };

        var tasks = new List<Task> { leadership.RunAsync(cancellationToken) };
        foreach (var scope in Scopes())
        {
            tasks.Add(InferenceServiceWatch(scope).RunAsync(
                items => { foreach (var key in view.ReplaceInferenceServices(scope, items)) { Discovered(key); } },
                (type, node) => { if (view.ApplyInferenceService(type, node) is { } key) { Discovered(key); } },
                cancellationToken));
            tasks.Add(PodWatch(scope).RunAsync(
                items => { foreach (var key in view.ReplacePods(scope, items)) { Schedule(key, Trigger.PodChanged); } },
                (type, pod) => { if (view.ApplyPod(type, pod) is { } key) { Schedule(key, Trigger.PodChanged); } },
                cancellationToken));
        }

        tasks.Add(folders.RunAsync(() => leadership.IsLeader, key => Schedule(key, Trigger.ArtifactChanged), cancellationToken));
        tasks.Add(ProbePeriodicallyAsync(cancellationToken));
        logger.LogInformation("Continuous verification started (dry run: {DryRun}, namespaces: {Namespaces}, watching: {Scopes})",
            Options.DryRun, string.Join(",", Options.Namespaces), string.Join(",", Scopes().Select(scope => scope ?? "all namespaces")));
        await Task.WhenAll(tasks);
        await Task.WhenAll(workers.Values.Select(worker => worker.Task));
    }

    // ---- watches ------------------------------------------------------------------------------------------

    private IReadOnlyList<string?> Scopes()
    {
        var settings = Options;
        return settings.WatchNamespaces.Count == 0
            ? [null]
            : settings.WatchNamespaces.Concat(settings.Namespaces).Distinct(StringComparer.Ordinal).Select(ns => (string?)ns).ToList();
    }

    private int WatchSeconds => Math.Max(1, (int)Math.Ceiling(kubernetesOptions.Value.WatchTimeout.TotalSeconds));

    private ResumableWatch<JsonObject> InferenceServiceWatch(string? scope) => new(
        "inferenceservices",
        async cancellationToken =>
        {
            var result = scope is null
                ? await client.CustomObjects.ListClusterCustomObjectAsync(InferenceServiceJson.Group, InferenceServiceJson.Version, InferenceServiceJson.Plural, cancellationToken: cancellationToken)
                : await client.CustomObjects.ListNamespacedCustomObjectAsync(InferenceServiceJson.Group, InferenceServiceJson.Version, scope, InferenceServiceJson.Plural, cancellationToken: cancellationToken);
            var list = InferenceServiceJson.ToNode(result);
            return new ListedItems<JsonObject>((list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList(),
                InferenceServiceJson.String(list["metadata"]?["resourceVersion"]) ?? "");
        },
        (resourceVersion, onError, cancellationToken) => WatchInferenceServicesAsync(scope, resourceVersion, onError, cancellationToken),
        node => InferenceServiceJson.String(node["metadata"]?["resourceVersion"]),
        kubernetesOptions.Value.WatchReconnectDelay, time, metrics, logger);

    private async IAsyncEnumerable<(WatchEventType, JsonObject)> WatchInferenceServicesAsync(
        string? scope, string resourceVersion, Action<Exception> onError, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = scope is null
            ? client.CustomObjects.WatchListClusterCustomObjectAsync(InferenceServiceJson.Group, InferenceServiceJson.Version, InferenceServiceJson.Plural,
                allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken)
            : client.CustomObjects.WatchListNamespacedCustomObjectAsync(InferenceServiceJson.Group, InferenceServiceJson.Version, scope, InferenceServiceJson.Plural,
                allowWatchBookmarks: true, resourceVersion: resourceVersion, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken);
        await foreach (var (type, item) in stream.WithCancellation(cancellationToken))
        {
            yield return (type, item is null ? new JsonObject() : InferenceServiceJson.ToNode(item));
        }
    }

    private const string PredictorPodSelector = PredictorNames.InferenceServiceLabel + "," + PredictorNames.ComponentLabel + "=predictor";

    private ResumableWatch<V1Pod> PodWatch(string? scope) => new(
        "pods",
        async cancellationToken =>
        {
            var list = scope is null
                ? await client.CoreV1.ListPodForAllNamespacesAsync(labelSelector: PredictorPodSelector, cancellationToken: cancellationToken)
                : await client.CoreV1.ListNamespacedPodAsync(scope, labelSelector: PredictorPodSelector, cancellationToken: cancellationToken);
            return new ListedItems<V1Pod>(list.Items.ToList(), list.Metadata?.ResourceVersion ?? "");
        },
        (resourceVersion, onError, cancellationToken) => scope is null
            ? client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: PredictorPodSelector,
                resourceVersion: resourceVersion, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken)
            : client.CoreV1.WatchListNamespacedPodAsync(scope, allowWatchBookmarks: true, labelSelector: PredictorPodSelector,
                resourceVersion: resourceVersion, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken),
        pod => pod.Metadata?.ResourceVersion,
        kubernetesOptions.Value.WatchReconnectDelay, time, metrics, logger);

    // ---- scheduling ---------------------------------------------------------------------------------------

    private void Discovered(string key)
    {
        if (view.InferenceService(key) is { } isvc && IsOptedIn(isvc) && resolver.Resolve(isvc.StorageUri).Location is { } location)
        {
            folders.Track(key, location, isvc.Annotation(ContractAnnotations.Artifact));
        }
        else
        {
            folders.Forget(key);
            if (view.InferenceService(key) is null)
            {
                // Deleted: forget what was learnt about it (a re-created one starts afresh).
                observed.TryRemove(key, out _);
                failedAt.TryRemove(key, out _);
                verifiedPods.TryRemove(key, out _);
                return;
            }
        }

        Schedule(key, Trigger.Discovered);
    }

    /// <summary>One evaluation at a time per InferenceService; triggers arriving meanwhile are merged into the next one.</summary>
    public void Schedule(string key, Trigger trigger)
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        metrics.Triggered(trigger.ToString());
        var worker = workers.GetOrAdd(key, _ => new Worker());
        lock (worker)
        {
            worker.Pending |= trigger;
            if (worker.Running)
            {
                return;
            }

            worker.Running = true;
            using (ExecutionContext.SuppressFlow())
            {
                worker.Task = Task.Run(() => WorkAsync(key, worker));
            }
        }
    }

    private async Task WorkAsync(string key, Worker worker)
    {
        while (true)
        {
            Trigger triggers;
            lock (worker)
            {
                triggers = worker.Pending;
                worker.Pending = Trigger.None;
                if (triggers == Trigger.None || stopping.IsCancellationRequested)
                {
                    worker.Running = false;
                    return;
                }
            }

            using var term = CancellationTokenSource.CreateLinkedTokenSource(stopping, leadership.Term);
            try
            {
                if (leadership.IsLeader)
                {
                    await EvaluateAsync(key, triggers, term.Token);
                }
            }
            catch (OperationCanceledException) when (term.IsCancellationRequested)
            {
                logger.LogInformation("Evaluation of {Key} stopped: the service is stopping or lost the leadership", key);
            }
            catch (Exception error)
            {
                logger.LogWarning(error, "Evaluation of {Key} failed ({Triggers}); it is tried again at the next trigger", key, triggers);
            }
        }
    }

    private async Task ProbePeriodicallyAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Options.ProbeInterval, time, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            if (!leadership.IsLeader)
            {
                continue;
            }

            foreach (var key in view.InferenceServiceKeys)
            {
                if (view.InferenceService(key) is { } isvc && IsOptedIn(isvc))
                {
                    Schedule(key, Trigger.Probe);
                }
            }
        }
    }

    private void RetryAt(string key, DateTimeOffset when)
    {
        if (!retryScheduled.TryAdd(key, 0))
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var delay = when - time.GetUtcNow();
                await Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, time, stopping);
                retryScheduled.TryRemove(key, out _);
                Schedule(key, Trigger.Retry);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                retryScheduled.TryRemove(key, out _);
            }
        }, CancellationToken.None);
    }

    // ---- decisions ----------------------------------------------------------------------------------------

    public bool IsOptedIn(InferenceServiceSnapshot isvc) =>
        isvc.Annotation(ContractAnnotations.Verify) == "continuous" || Options.Namespaces.Contains(isvc.Namespace, StringComparer.Ordinal);

    private async Task EvaluateAsync(string key, Trigger triggers, CancellationToken cancellationToken)
    {
        if (view.InferenceService(key) is not { } isvc || !IsOptedIn(isvc)
            || isvc.StorageUri?.StartsWith("pvc://", StringComparison.Ordinal) != true)
        {
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Namespace"] = isvc.Namespace, ["InferenceService"] = isvc.Name });
        var phase = isvc.Annotation(ContractAnnotations.Phase);
        var runId = isvc.Annotation(ContractAnnotations.Run);
        if (phase is Phases.AwaitingArtifact or Phases.Restarting or Phases.Verifying && !WrittenByProbe(isvc))
        {
            if (runId?.StartsWith(RunPrefix, StringComparison.Ordinal) == true && runs.Find(runId) is null)
            {
                // A continuous action of a previous leader or process: resume it under the same run id, so the healer
                // continues at the rollout wait instead of restarting again.
                await ActAsync(isvc, "resume", runId, null, cancellationToken);
            }
            else
            {
                logger.LogDebug("{Name} is in phase {Phase} of run {Run}: leaving it to that run", isvc.Name, phase, runId);
            }

            return;
        }

        var resolved = resolver.Resolve(isvc.StorageUri);
        if (resolved.Location is not { } location)
        {
            ReportOnce(key, "unresolvable", () => logger.LogWarning("Not verifying {Name} continuously: {Error}", isvc.Name, resolved.Error));
            return;
        }

        folders.Track(key, location, isvc.Annotation(ContractAnnotations.Artifact));
        var artifact = await ObserveAsync(key, location, isvc.Annotation(ContractAnnotations.Artifact), cancellationToken);
        // The file on the PVC is the one the annotations speak about (verified, or judged by the probe since).
        var sameArtifact = IsCurrentGeneration(isvc) && artifact.Artifact is { } stable
            && isvc.Annotation(ContractAnnotations.ArtifactDigest) == stable.Digest
            && (phase == Phases.Verified || WrittenByProbe(isvc));
        // A failed action on this exact folder content is not retried until the folder changes (no restart storm).
        var alreadyFailedHere = failedAt.TryGetValue(key, out var failedFingerprint) && failedFingerprint == artifact.Fingerprint;
        if (artifact.Artifact is { } newArtifact && !sameArtifact && !alreadyFailedHere)
        {
            await HealAsync(isvc, newArtifact, artifact.Fingerprint, "restart", cancellationToken);
            return;
        }

        await ProbeAsync(isvc, artifact, triggers, sameArtifact && phase == Phases.Verified, cancellationToken);
    }

    private async Task<ArtifactObservation> ObserveAsync(string key, ArtifactLocation location, string? artifactOverride, CancellationToken cancellationToken)
    {
        var fingerprint = ArtifactFolderMonitor.Fingerprint(location.Target, artifactOverride);
        if (observed.TryGetValue(key, out var known) && known.Fingerprint == fingerprint)
        {
            return known;
        }

        ArtifactObservation result;
        if (!ArtifactFolderMonitor.HasModelFile(fingerprint))
        {
            result = new ArtifactObservation(fingerprint, null,
                fingerprint == "no-folder" ? $"the folder {location.StorageUri} does not exist" : $"{location.StorageUri} holds no model file");
        }
        else
        {
            // Exactly the run flow's rule and stability check: the same waiter.
            var waited = await artifacts.WaitAsync(location, artifactOverride, Options.ArtifactSettleTimeout, _ => { }, cancellationToken);
            // The file may have changed while it settled: key the result by the fingerprint of what was hashed.
            result = new ArtifactObservation(ArtifactFolderMonitor.Fingerprint(location.Target, artifactOverride), waited.Artifact, waited.Error);
        }

        observed[key] = result;
        return result;
    }

    /// <summary>A restart through the normal algorithm (a run), unless a guard rail says no.</summary>
    private async Task HealAsync(InferenceServiceSnapshot cached, StableArtifact artifact, string fingerprint, string kind, CancellationToken cancellationToken)
    {
        var key = ClusterView.Key(cached.Namespace, cached.Name);
        // Decide on the object as it is now, not as the watch last showed it.
        if (await store.GetAsync(cached.Namespace, cached.Name, cancellationToken) is not { } isvc)
        {
            return;
        }

        if (isvc.Annotation(ContractAnnotations.Phase) is Phases.AwaitingArtifact or Phases.Restarting or Phases.Verifying && !WrittenByProbe(isvc))
        {
            return; // a run is acting on it
        }

        if (isvc.Annotation(ContractAnnotations.Phase) == Phases.Verified && IsCurrentGeneration(isvc)
            && isvc.Annotation(ContractAnnotations.ArtifactDigest) == artifact.Digest)
        {
            return; // verified meanwhile
        }

        var settings = Options;
        var now = time.GetUtcNow();
        // Pods that all started after the file was written have loaded it: the healer verifies them without a
        // restart (e.g. after a spec change rolled them), so the minimum interval between restarts does not apply.
        var ready = view.PredictorPodsOf(isvc).Where(pod => pod.Ready).ToList();
        var restartExpected = ready.Count == 0
            || !ready.All(pod => pod.StartedAt is { } started && started >= WholeSecond(artifact.WrittenAt) + TimeSpan.FromSeconds(1));
        if (restartExpected && LastRestart(isvc, key) is { } last && now < last + settings.MinRestartInterval)
        {
            var until = last + settings.MinRestartInterval;
            await RecordSuppressedAsync(isvc, artifact, until, cancellationToken);
            RetryAt(key, until);
            return;
        }

        var modelText = $"{artifact.FileName} ({Short(artifact.Digest)})";
        if (settings.DryRun)
        {
            if (ReportOnce(key, "dry-run-restart:" + artifact.Digest, null))
            {
                var message = $"Dry run: would restart the predictor so that it loads {modelText} from {isvc.StorageUri}, then verify model {isvc.ModelName}.";
                logger.LogInformation("{Message}", message);
                await events.RecordAsync(isvc, DryRunReason, "RestartPredictor", message, warning: false, cancellationToken);
                metrics.Action(kind, "DryRun");
            }

            return;
        }

        var runId = NewRunId(artifact.Digest);
        var final = await ActAsync(isvc, kind, runId, artifact, cancellationToken);
        if (final is { Phase: Phases.Verified })
        {
            RememberVerifiedPods(isvc);
        }

        if (final is { Phase: Phases.Failed })
        {
            failedAt[key] = fingerprint;
        }
        else if (final is not null)
        {
            failedAt.TryRemove(key, out _);
        }
    }

    /// <summary>Runs the healer through the registry (acting lock shared with runs) within the concurrency bounds.</summary>
    private async Task<RunItemView?> ActAsync(InferenceServiceSnapshot isvc, string kind, string runId, StableArtifact? artifact, CancellationToken cancellationToken)
    {
        var key = ClusterView.Key(isvc.Namespace, isvc.Name);
        using var slot = await guardRails.AcquireAsync(isvc.Namespace, cancellationToken);
        if (!leadership.IsLeader)
        {
            return null;
        }

        var previousRestart = restartedAt.TryGetValue(key, out var before) ? before : (DateTimeOffset?)null;
        restartedAt[key] = time.GetUtcNow(); // counted before it happens, so a failure cannot make a storm
        var started = runs.Start(new RunRequest(isvc.Namespace, [isvc.Name], runId, null));
        if (started.Run is not { } run || started.Outcome == StartOutcome.ShuttingDown)
        {
            return null;
        }

        logger.LogInformation("Continuous {Kind} of {Name} as run {RunId}{Artifact}", kind, isvc.Name, runId,
            artifact is null ? "" : $" for {artifact.FileName} ({Short(artifact.Digest)})");
        while (!run.IsFinished)
        {
            await run.WaitForChangeAsync(run.View().Version, TimeSpan.FromSeconds(30), time, cancellationToken);
        }

        var item = run.View().InferenceServices.FirstOrDefault(entry => entry.Name == isvc.Name);
        if (item is { Restarts: 0 })
        {
            // No restart happened (the pods already served it): the minimum interval counts real restarts only.
            if (previousRestart is { } value)
            {
                restartedAt[key] = value;
            }
            else
            {
                restartedAt.TryRemove(key, out _);
            }
        }

        metrics.Action(kind, item?.Phase ?? Phases.Failed);
        return item;
    }

    private async Task ProbeAsync(InferenceServiceSnapshot isvc, ArtifactObservation artifact, Trigger triggers, bool verifiedSame, CancellationToken cancellationToken)
    {
        var key = ClusterView.Key(isvc.Namespace, isvc.Name);
        var ready = view.PredictorPodsOf(isvc).Where(pod => pod.Ready).ToList();
        if (ready.Count == 0)
        {
            return; // KServe's own status says the predictor is not ready; nothing to probe
        }

        var verifiedAt = ParseTime(isvc.Annotation(ContractAnnotations.VerifiedAt));
        var known = verifiedPods.TryGetValue(key, out var uids) ? uids : [];
        var changedPods = ready.Where(pod => !known.Contains(pod.Uid)
            && (verifiedAt is null || pod.StartedAt is not { } started || started >= WholeSecond(verifiedAt.Value))).ToList();
        var results = await Task.WhenAll(ready.Select(async pod => (Pod: pod, Result: await probe.ProbeAsync(pod, isvc.ModelName, cancellationToken))));
        var failure = results.FirstOrDefault(entry => !entry.Result.Ready);
        var phase = isvc.Annotation(ContractAnnotations.Phase);
        var what = artifact.Artifact is { } stable ? $"{stable.FileName} ({Short(stable.Digest)})" : null;
        if (failure.Pod is null)
        {
            if (verifiedSame && (triggers & Trigger.PodChanged) != 0 && changedPods.Count > 0)
            {
                var names = string.Join(", ", changedPods.Select(pod => pod.Name));
                await RecordAsync(isvc, Phases.Verified, "reverify",
                    $"Re-verified after the predictor pod {names} was replaced or restarted: the model server serves model {isvc.ModelName} from {what} on {Pods(ready.Count)}.",
                    artifact.Artifact?.Digest, time.GetUtcNow(), cancellationToken);
                RememberVerifiedPods(isvc);
            }
            else if (!verifiedSame && phase is Phases.Failed or Phases.Verifying && WrittenByProbe(isvc)
                && artifact.Artifact is { } current && ready.All(pod => pod.StartedAt is { } started && started >= WholeSecond(current.WrittenAt) + TimeSpan.FromSeconds(1)))
            {
                // Every pod started after the file was written and answers: it serves this file again.
                failedAt.TryRemove(key, out _);
                await RecordAsync(isvc, Phases.Verified, "probe",
                    $"The model server serves model {isvc.ModelName} from {what} on {Pods(ready.Count)} again.",
                    current.Digest, time.GetUtcNow(), cancellationToken);
                RememberVerifiedPods(isvc);
            }

            return;
        }

        var (pod, result) = failure;
        if (result.StatusCode is null)
        {
            await RecordAsync(isvc, Phases.Verifying, "probe",
                $"The predictor pod {pod.Name} is ready but does not answer the model probe ({result.Detail}); probing again every {HumanText.Duration(Options.ProbeInterval)}.",
                isvc.Annotation(ContractAnnotations.ArtifactDigest), null, cancellationToken);
            return;
        }

        if (artifact.Artifact is { } present && pod.StartedAt is { } podStarted && podStarted < WholeSecond(present.WrittenAt)
            && !(failedAt.TryGetValue(key, out var failedFingerprint) && failedFingerprint == artifact.Fingerprint))
        {
            // The pod looked for its model before the file was complete: only a restart can fix that.
            await HealAsync(isvc, present, artifact.Fingerprint, "restart", cancellationToken);
            return;
        }

        if (artifact.Artifact is null && phase is null)
        {
            // Never verified and no model yet: the model is probably written later (a later sync wave). Writing Failed
            // would fail the sync; the gate's rules already describe this state. The file's arrival triggers a restart.
            logger.LogDebug("{Name} has no model file yet and was never verified: waiting for the file", isvc.Name);
            return;
        }

        var code = result.StatusCode.Value.ToString(CultureInfo.InvariantCulture);
        var cause = artifact.Artifact is not null
            ? $"although {what} is in {isvc.StorageUri}; check the predictor's logs and the model file"
            : $"and {artifact.Problem ?? "the model file is missing"}; write the model file and continuous verification restarts the predictor";
        failedAt[key] = artifact.Fingerprint;
        await RecordAsync(isvc, Phases.Failed, "probe",
            $"The predictor pod {pod.Name} answered {code} ({result.Detail}) {cause}.",
            artifact.Artifact?.Digest ?? isvc.Annotation(ContractAnnotations.ArtifactDigest), null, cancellationToken);
    }

    /// <summary>Writes a phase (annotations + Event) unless the same phase and message are already there.</summary>
    private async Task RecordAsync(InferenceServiceSnapshot cached, string phase, string kind, string message, string? digest, DateTimeOffset? verifiedAt, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(cached.Namespace, cached.Name, cancellationToken) is not { } isvc)
        {
            return;
        }

        var current = isvc.Annotation(ContractAnnotations.Phase);
        if (current is Phases.AwaitingArtifact or Phases.Restarting or Phases.Verifying && !WrittenByProbe(isvc))
        {
            return; // a run started meanwhile: it writes the truth
        }

        if (current == phase && isvc.Annotation(ContractAnnotations.Message) == message && IsCurrentGeneration(isvc))
        {
            return;
        }

        var result = phase is Phases.Verified ? Phases.Verified : phase is Phases.Failed ? Phases.Failed : "Progressing";
        if (Options.DryRun)
        {
            if (ReportOnce(ClusterView.Key(isvc.Namespace, isvc.Name), "dry-run-record:" + phase + message, null))
            {
                logger.LogInformation("Dry run: would record {Phase}: {Message}", phase, message);
                await events.RecordAsync(isvc, DryRunReason, "RecordPhase", $"Dry run: would record {phase}: {message}", warning: false, cancellationToken);
                metrics.Action(kind, "DryRun");
            }

            return;
        }

        logger.LogInformation("Continuous verification records {Phase} on {Name}: {Message}", phase, isvc.Name, message);
        await store.RecordPhaseAsync(isvc, new PhaseRecord(phase, isvc.Generation, message, NewRunId(null), digest, verifiedAt), cancellationToken);
        metrics.Action(kind, result);
    }

    private async Task RecordSuppressedAsync(InferenceServiceSnapshot isvc, StableArtifact artifact, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var key = ClusterView.Key(isvc.Namespace, isvc.Name);
        var untilText = until.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        if (!ReportOnce(key, $"suppressed:{artifact.Digest}:{untilText}", null))
        {
            return;
        }

        metrics.RestartSuppressed();
        metrics.Action("restart", "Suppressed");
        var served = isvc.Annotation(ContractAnnotations.ArtifactDigest) is { } digest ? $"the predictor keeps serving {Short(digest)}" : "the predictor is not restarted yet";
        var message = $"A new {artifact.FileName} ({Short(artifact.Digest)}) is in {isvc.StorageUri}, but the restart is suppressed until {untilText} " +
            $"(at most one restart per {HumanText.Duration(Options.MinRestartInterval)}); {served}.";
        logger.LogInformation("{Message}", message);
        var phase = isvc.Annotation(ContractAnnotations.Phase);
        var generationText = isvc.Annotation(ContractAnnotations.Generation);
        if (Options.DryRun || phase is null || !long.TryParse(generationText, NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
        {
            await events.RecordAsync(isvc, SuppressedReason, "RestartPredictor", Options.DryRun ? "Dry run: " + message : message, warning: false, cancellationToken);
            return;
        }

        // Same phase, generation, digest and verified-at as recorded: only the message (and an Event) say what waits.
        await store.RecordPhaseAsync(isvc, new PhaseRecord(phase, generation, message, isvc.Annotation(ContractAnnotations.Run) ?? NewRunId(artifact.Digest),
            isvc.Annotation(ContractAnnotations.ArtifactDigest), ParseTime(isvc.Annotation(ContractAnnotations.VerifiedAt))), cancellationToken);
    }

    private void RememberVerifiedPods(InferenceServiceSnapshot isvc) =>
        verifiedPods[ClusterView.Key(isvc.Namespace, isvc.Name)] =
            view.PredictorPodsOf(isvc).Where(pod => pod.Ready).Select(pod => pod.Uid).ToHashSet(StringComparer.Ordinal);

    private DateTimeOffset? LastRestart(InferenceServiceSnapshot isvc, string key)
    {
        var annotated = ParseTime(isvc.RestartedAt);
        var remembered = restartedAt.TryGetValue(key, out var value) ? value : (DateTimeOffset?)null;
        return annotated is null ? remembered : remembered is null ? annotated : annotated > remembered ? annotated : remembered;
    }

    /// <summary>True the first time a given thing is reported for an InferenceService (then runs <paramref name="report"/>).</summary>
    private bool ReportOnce(string key, string what, Action? report)
    {
        if (reported.TryGetValue(key + "|" + what.Split(':')[0], out var last) && last == what)
        {
            return false;
        }

        reported[key + "|" + what.Split(':')[0]] = what;
        report?.Invoke();
        return true;
    }

    /// <summary>Continuous writes of Verifying (a pod does not answer) do not mean a run is acting.</summary>
    private static bool WrittenByProbe(InferenceServiceSnapshot isvc) =>
        isvc.Annotation(ContractAnnotations.Phase) is Phases.Verifying or Phases.Failed or Phases.Verified
        && isvc.Annotation(ContractAnnotations.Run)?.StartsWith(RunPrefix + "probe-", StringComparison.Ordinal) == true;

    private string NewRunId(string? digest)
    {
        var stamp = time.GetUtcNow().ToUnixTimeMilliseconds().ToString("x", CultureInfo.InvariantCulture);
        // continuous-<12 hex of the digest>-<time> for a restart/verify run; continuous-probe-<time> for what the probe records.
        var hex = digest is { Length: > 19 } ? digest[7..19] : "probe";
        return $"{RunPrefix}{hex}-{stamp}{Random.Shared.Next(0x1000):x3}";
    }

    private static bool IsCurrentGeneration(InferenceServiceSnapshot isvc) =>
        isvc.Annotation(ContractAnnotations.Generation) == isvc.Generation.ToString(CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value) ? value : null;

    private static DateTimeOffset WholeSecond(DateTimeOffset value) => new(value.UtcTicks - value.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private static string Pods(int count) => count == 1 ? "the ready predictor pod" : $"all {count.ToString(CultureInfo.InvariantCulture)} ready predictor pods";

    private static string Short(string? digest) => digest is { Length: > 19 } ? digest[..19] : digest ?? "unknown digest";
}
