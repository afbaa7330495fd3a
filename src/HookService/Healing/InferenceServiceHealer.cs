using System.Globalization;
using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Observability;
using ArgoHooks.HookService.Runs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Healing;

/// <summary>One InferenceService of one run.</summary>
/// <param name="Snapshot">The InferenceService as the run just listed it, if it did: saves the first GET.</param>
public sealed record HealTarget(string RunId, string Namespace, string Name, TimeSpan ArtifactTimeout, InferenceServiceSnapshot? Snapshot = null);

/// <summary>Where one InferenceService stands: a contract phase (or Pending before the first), one sentence, and what was done.</summary>
public sealed record HealStatus(string Phase, string Message, string? ArtifactDigest = null, int Restarts = 0)
{
    public const string Pending = "Pending";

    public bool IsFinal => Phase is Phases.Verified or Phases.Failed;
}

/// <summary>
/// The restart/verify algorithm, written once against the narrow ports of Ports.cs:
/// resolve the artifact → wait until it is completely written → restart unless the pods already serve it →
/// wait for the rollout → probe every ready pod with the model server's own probe → record the outcome.
/// Every step first re-reads the annotations, so a retried or resumed run never restarts twice.
/// </summary>
public sealed class InferenceServiceHealer(
    IInferenceServiceStore store,
    IPredictorRestarter restarter,
    IRolloutWatcher rollouts,
    IPredictorPods pods,
    IModelProbe probe,
    StorageUriResolver resolver,
    ArtifactWaiter artifacts,
    IOptionsMonitor<RunOptions> options,
    TimeProvider time,
    HookMetrics metrics,
    ActionSlots slots,
    ILogger<InferenceServiceHealer> logger)
{
    // Fields, not captured parameters: the nested Attempt reads them through its healer reference.
    private readonly IInferenceServiceStore store = store;
    private readonly IPredictorRestarter restarter = restarter;
    private readonly IRolloutWatcher rollouts = rollouts;
    private readonly IPredictorPods pods = pods;
    private readonly IModelProbe probe = probe;
    private readonly StorageUriResolver resolver = resolver;
    private readonly ArtifactWaiter artifacts = artifacts;
    private readonly IOptionsMonitor<RunOptions> options = options;
    private readonly TimeProvider time = time;
    private readonly HookMetrics metrics = metrics;
    private readonly ActionSlots slots = slots;
    private readonly ILogger<InferenceServiceHealer> logger = logger;

    public async Task<HealStatus> HealAsync(HealTarget target, Action<HealStatus> report, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginInferenceService(target.RunId, target.Namespace, target.Name);
        var attempt = new Attempt(this, target, report);
        HealStatus final;
        try
        {
            final = await attempt.RunAsync(cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(error, "Healing {Name} stopped on an error", target.Name);
            final = await attempt.FailOnErrorAsync(error, cancellationToken);
        }

        metrics.InferenceServiceFinished(final.Phase);
        logger.LogInformation("InferenceService {Name} finished as {Phase}: {Message}", target.Name, final.Phase, final.Message);
        return final;
    }

    /// <summary>The state of one HealAsync call: the latest snapshot, what the artifact is, and what was reported.</summary>
    private sealed class Attempt(InferenceServiceHealer healer, HealTarget target, Action<HealStatus> report)
    {
        private InferenceServiceSnapshot? isvc;
        private StableArtifact? artifact;
        private string? digest;
        private int restarts;
        private (string? Digest, long Generation)? verifiedBefore;
        private HealStatus current = new(HealStatus.Pending, "Waiting for a free slot in the run.");
        private DateTimeOffset phaseStarted = healer.time.GetUtcNow();

        private RunOptions Options => healer.options.CurrentValue;

        public async Task<HealStatus> RunAsync(CancellationToken cancellationToken)
        {
            isvc = target.Snapshot ?? await healer.store.GetAsync(target.Namespace, target.Name, cancellationToken);
            if (isvc is null)
            {
                return Report(Phases.Failed,
                    $"The InferenceService {target.Name} does not exist in namespace {target.Namespace}; check the name in the run request.");
            }

            // Recovery: what this run already did is in the annotations, whatever this process remembers.
            var ownRun = isvc.Annotation(ContractAnnotations.Run) == target.RunId;
            var phase = isvc.Annotation(ContractAnnotations.Phase);
            var recordedMessage = isvc.Annotation(ContractAnnotations.Message) ?? "";
            if (ownRun && phase is Phases.Restarting or Phases.Verifying)
            {
                healer.logger.LogInformation("Run {RunId} already restarted {Name} (phase {Phase}): resuming at the rollout wait", target.RunId, target.Name, phase);
                digest = isvc.Annotation(ContractAnnotations.ArtifactDigest);
                restarts = 1;
                Report(phase, recordedMessage);
                using var resumed = await healer.slots.AcquireAsync(cancellationToken);
                return await RolloutAndVerifyAsync(TicketFrom(isvc), cancellationToken);
            }

            if (ownRun && phase is Phases.Verified or Phases.Failed && IsCurrentGeneration(isvc))
            {
                digest = isvc.Annotation(ContractAnnotations.ArtifactDigest);
                return Report(phase, recordedMessage);
            }

            if (phase == Phases.Verified && IsCurrentGeneration(isvc))
            {
                // Evidence for skipping the restart later; the AwaitingArtifact record below overwrites it.
                verifiedBefore = (isvc.Annotation(ContractAnnotations.ArtifactDigest), isvc.Generation);
            }

            var resolved = healer.resolver.Resolve(isvc.StorageUri);
            if (resolved.Location is not { } location)
            {
                return await FailAsync(resolved.Error!, cancellationToken);
            }

            var artifactOverride = isvc.Annotation(ContractAnnotations.Artifact);
            var waitingFor = artifactOverride ?? "one *.pkl, *.pickle or *.joblib file";
            var waitingMessage = $"Waiting for {waitingFor} in {location.StorageUri}; the timeout is {HumanText.Duration(target.ArtifactTimeout)}.";
            if (ownRun && phase == Phases.AwaitingArtifact)
            {
                Report(Phases.AwaitingArtifact, waitingMessage);
            }
            else
            {
                await RecordAsync(Phases.AwaitingArtifact, waitingMessage, cancellationToken);
            }

            var waited = await healer.artifacts.WaitAsync(
                location, artifactOverride, target.ArtifactTimeout, message => Report(Phases.AwaitingArtifact, message), cancellationToken);
            if (waited.Artifact is not { } stable)
            {
                return await FailAsync(waited.Error!, cancellationToken);
            }

            artifact = stable;
            digest = stable.Digest;
            using var slot = await healer.slots.AcquireAsync(cancellationToken);
            return await RestartIfNeededAsync(cancellationToken);
        }

        private async Task<HealStatus> RestartIfNeededAsync(CancellationToken cancellationToken)
        {
            var artifactText = $"{artifact!.FileName} ({ShortDigest(artifact.Digest)})";
            for (var attempt = 1; ; attempt++)
            {
                // The first attempt trusts the snapshot the AwaitingArtifact write returned: the restart patch carries
                // its resourceVersion, so a change made meanwhile (another caller's restart, an edit) answers 409 and
                // the next attempt reads the InferenceService again. One GET fewer per InferenceService and run.
                if (attempt > 1 || isvc is null)
                {
                    isvc = await healer.store.GetAsync(target.Namespace, target.Name, cancellationToken);
                }

                if (isvc is null)
                {
                    return Report(Phases.Failed,
                        $"The InferenceService {target.Name} was deleted while the hook service waited for its artifact; re-create it and start a new run.");
                }

                if (isvc.Annotation(ContractAnnotations.Run) == target.RunId
                    && isvc.Annotation(ContractAnnotations.Phase) is Phases.Restarting or Phases.Verifying)
                {
                    // Another caller of this same run (a second replica, a retried Job) restarted it meanwhile.
                    healer.logger.LogInformation("Run {RunId} restarted {Name} from elsewhere: joining its rollout", target.RunId, target.Name);
                    restarts = 1;
                    Report(isvc.Annotation(ContractAnnotations.Phase)!, isvc.Annotation(ContractAnnotations.Message) ?? "");
                    return await RolloutAndVerifyAsync(TicketFrom(isvc), cancellationToken);
                }

                if (await ServesArtifactAsync(isvc, artifact, cancellationToken))
                {
                    healer.metrics.RestartSkipped();
                    healer.logger.LogInformation("Every ready predictor pod of {Name} already serves {Digest}: no restart", target.Name, artifact.Digest);
                    return await VerifyAsync(
                        $"Every ready predictor pod already serves {artifactText}, so there is no restart; probing model {isvc.ModelName} to confirm.",
                        cancellationToken);
                }

                var message = $"Restarting the predictor so that it loads {artifactText}; the rollout may take up to {HumanText.Duration(Options.RolloutTimeout)}.";
                try
                {
                    var ticket = await healer.restarter.RestartAsync(
                        isvc, new PhaseRecord(Phases.Restarting, isvc.Generation, message, target.RunId, artifact.Digest), cancellationToken);
                    restarts = 1;
                    healer.metrics.Restarted(healer.restarter.Strategy);
                    healer.logger.LogInformation("Restarted the predictor of {Name} with strategy {Strategy} at {RestartedAt}",
                        target.Name, healer.restarter.Strategy, ticket.RestartedAt);
                    isvc = ticket.After;
                    Report(Phases.Restarting, message);
                    if (!IsCurrentGeneration(isvc) || isvc.Annotation(ContractAnnotations.Phase) != Phases.Restarting)
                    {
                        // The restart bumped metadata.generation after the phase was written (or the strategy does not
                        // write it): record Restarting for the generation that now exists, so health shows Progressing.
                        await RecordAsync(Phases.Restarting, message, cancellationToken);
                    }

                    return await RolloutAndVerifyAsync(ticket, cancellationToken);
                }
                catch (ConcurrentChangeException conflict) when (attempt < Options.MaxRestartAttempts)
                {
                    healer.logger.LogInformation("The InferenceService {Name} changed before the restart ({Reason}); reading it again", target.Name, conflict.Message);
                }
                catch (ConcurrentChangeException)
                {
                    return await FailAsync(
                        $"The InferenceService {target.Name} kept changing during {Options.MaxRestartAttempts} restart attempts; check what else writes to it and start a new run.",
                        cancellationToken);
                }
            }
        }

        private async Task<HealStatus> RolloutAndVerifyAsync(RestartTicket? ticket, CancellationToken cancellationToken)
        {
            var outcome = await healer.rollouts.WaitAsync(ticket?.After ?? isvc!, ticket, Options.RolloutTimeout, cancellationToken);
            switch (outcome.Result)
            {
                case RolloutResult.Complete:
                    break;
                case RolloutResult.TimedOut:
                    return await FailAsync(
                        $"The predictor rollout did not finish within {HumanText.Duration(Options.RolloutTimeout)} ({outcome.Message}); check the predictor's pods and events.",
                        cancellationToken);
                default:
                    return await FailAsync(
                        $"The predictor rollout failed ({outcome.Reason ?? "no reason given"}: {outcome.Message}); check the predictor's Deployment or revision and its pod events.",
                        cancellationToken);
            }

            return await VerifyAsync(
                $"The rollout is complete; probing model {isvc!.ModelName} on every ready predictor pod for up to {HumanText.Duration(Options.VerifyTimeout)}.",
                cancellationToken);
        }

        private async Task<HealStatus> VerifyAsync(string verifyingMessage, CancellationToken cancellationToken)
        {
            // No re-read: the snapshot is the one the restart (or the last phase write) returned, and the phase write
            // answers with the object as stored, which the Verified record then builds on.
            await RecordAsync(Phases.Verifying, verifyingMessage, cancellationToken);
            var modelName = isvc!.ModelName;
            var deadline = healer.time.GetUtcNow() + Options.VerifyTimeout;
            while (true)
            {
                var (ready, problem) = await CheckPodsAsync(isvc, cancellationToken);
                if (problem is null)
                {
                    return await SmokeAndConcludeAsync(ready, modelName, cancellationToken);
                }

                var remaining = deadline - healer.time.GetUtcNow();
                if (remaining <= TimeSpan.Zero)
                {
                    return await FailAsync(
                        $"The model server did not serve model {modelName} within {HumanText.Duration(Options.VerifyTimeout)}: {problem}; check the predictor's logs and the model file.",
                        cancellationToken);
                }

                healer.logger.LogDebug("Not verified yet: {Problem}", problem);
                await Task.Delay(remaining < Options.VerifyRetryInterval ? remaining : Options.VerifyRetryInterval, healer.time, cancellationToken);
            }
        }

        /// <returns>The ready pods, and null when every one of them answers the model probe; else what is wrong.</returns>
        private async Task<(IReadOnlyList<PredictorPod> Ready, string? Problem)> CheckPodsAsync(
            InferenceServiceSnapshot snapshot, CancellationToken cancellationToken)
        {
            var ready = (await healer.pods.ListAsync(snapshot, cancellationToken)).Where(pod => pod.Ready).ToList();
            if (ready.Count == 0)
            {
                return (ready, "no predictor pod is ready");
            }

            if (artifact is not null && ready.FirstOrDefault(pod => StartedBefore(pod, artifact)) is { } stale)
            {
                return (ready, $"pod {stale.Name} started before the artifact was written, so it cannot have loaded it");
            }

            var results = await Task.WhenAll(ready.Select(async pod => (pod, result: await healer.probe.ProbeAsync(pod, snapshot.ModelName, cancellationToken))));
            var failed = results.FirstOrDefault(entry => !entry.result.Ready);
            return failed.pod is null ? (ready, null) : (ready, $"pod {failed.pod.Name} answered {Describe(failed.result)}");
        }

        private async Task<HealStatus> SmokeAndConcludeAsync(IReadOnlyList<PredictorPod> ready, string modelName, CancellationToken cancellationToken)
        {
            if (isvc!.Annotation(ContractAnnotations.SmokeRequest) is { Length: > 0 } smokeRequest)
            {
                var smoke = await healer.probe.PredictAsync(ready[0], modelName, smokeRequest, cancellationToken);
                if (!smoke.Ready)
                {
                    return await FailAsync(
                        $"The model loads but the smoke prediction on pod {ready[0].Name} answered {Describe(smoke)}; check the argohooks.io/smoke-request annotation and the model.",
                        cancellationToken);
                }
            }

            var what = artifact is null ? $"the artifact {ShortDigest(digest)}" : $"{artifact.FileName} ({ShortDigest(digest)})";
            var pods = ready.Count == 1 ? "the ready predictor pod" : $"all {ready.Count} ready predictor pods";
            await RecordAsync(Phases.Verified,
                $"The model server serves model {modelName} from {what} on {pods}.",
                cancellationToken, verifiedAt: healer.time.GetUtcNow());
            return current;
        }

        private async Task<bool> ServesArtifactAsync(InferenceServiceSnapshot snapshot, StableArtifact stable, CancellationToken cancellationToken)
        {
            var ready = (await healer.pods.ListAsync(snapshot, cancellationToken)).Where(pod => pod.Ready).ToList();
            if (ready.Count == 0)
            {
                return false;
            }

            var startedAfterArtifact = ready.All(pod => StartedAfter(pod, stable));
            var verifiedThisDigest = verifiedBefore is var (verifiedDigest, verifiedGeneration)
                && verifiedDigest == stable.Digest
                && verifiedGeneration == snapshot.Generation;
            if (!startedAfterArtifact && !verifiedThisDigest)
            {
                return false;
            }

            foreach (var pod in ready)
            {
                if (!(await healer.probe.ProbeAsync(pod, snapshot.ModelName, cancellationToken)).Ready)
                {
                    return false;
                }
            }

            return true;
        }

        /// <summary>
        /// Records Failed after an unexpected error (the API server gone after every retry, ...), so the health check
        /// shows Degraded instead of a phase that would stay Progressing; best effort, as the API may still be down.
        /// </summary>
        public async Task<HealStatus> FailOnErrorAsync(Exception error, CancellationToken cancellationToken)
        {
            var what = error switch
            {
                k8s.Autorest.HttpOperationException { Response: { } response } =>
                    $"the Kubernetes API answered {((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)}",
                HttpRequestException => "the Kubernetes API could not be reached",
                _ => error.GetType().Name,
            };
            var message = $"The hook service stopped healing this InferenceService because {what}; check the hook service's logs, then start a new run.";
            if (isvc is not null)
            {
                try
                {
                    await RecordAsync(Phases.Failed, message, cancellationToken);
                    return current;
                }
                catch (Exception recordError) when (recordError is not OperationCanceledException)
                {
                    healer.logger.LogWarning(recordError, "Could not record phase Failed on {Name}", target.Name);
                }
            }

            return Report(Phases.Failed, message);
        }

        private async Task<HealStatus> FailAsync(string message, CancellationToken cancellationToken)
        {
            await RecordAsync(Phases.Failed, message, cancellationToken);
            return current;
        }

        private async Task RecordAsync(string phase, string message, CancellationToken cancellationToken, DateTimeOffset? verifiedAt = null)
        {
            var record = new PhaseRecord(phase, isvc!.Generation, message, target.RunId, digest, verifiedAt);
            isvc = await healer.store.RecordPhaseAsync(isvc, record, cancellationToken);
            Report(phase, message);
        }

        private HealStatus Report(string phase, string message)
        {
            if (phase != current.Phase)
            {
                var now = healer.time.GetUtcNow();
                if (current.Phase != HealStatus.Pending)
                {
                    healer.metrics.PhaseCompleted(current.Phase, now - phaseStarted);
                }

                phaseStarted = now;
                healer.logger.LogInformation("{Name}: {Phase}: {Message}", target.Name, phase, message);
            }

            current = new HealStatus(phase, message, digest, restarts);
            report(current);
            return current;
        }

        // Kubernetes reports startedAt in whole seconds: a pod started in the artifact's own second is ambiguous.
        // Ambiguous counts as "not known to have loaded it" for skipping a restart, and as "not stale" after one.
        private static bool StartedAfter(PredictorPod pod, StableArtifact stable) =>
            pod.StartedAt is { } started && started >= WholeSecond(stable.WrittenAt) + TimeSpan.FromSeconds(1);

        private static bool StartedBefore(PredictorPod pod, StableArtifact stable) =>
            pod.StartedAt is { } started && started < WholeSecond(stable.WrittenAt);

        private static DateTimeOffset WholeSecond(DateTimeOffset value) =>
            new(value.Ticks - value.Ticks % TimeSpan.TicksPerSecond, value.Offset);

        private static RestartTicket? TicketFrom(InferenceServiceSnapshot snapshot) =>
            snapshot.RestartedAt is { } restartedAt ? new RestartTicket(snapshot, restartedAt) : null;

        private static bool IsCurrentGeneration(InferenceServiceSnapshot snapshot) =>
            snapshot.Annotation(ContractAnnotations.Generation) == snapshot.Generation.ToString(CultureInfo.InvariantCulture);

        private static string Describe(ProbeResult result) =>
            result.StatusCode is { } code
                ? $"{code.ToString(CultureInfo.InvariantCulture)} ({result.Detail})"
                : $"nothing ({result.Detail})";

        private static string ShortDigest(string? digest) =>
            digest is { Length: > 19 } ? digest[..19] : digest ?? "unknown digest";
    }
}
