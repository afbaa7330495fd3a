using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>
/// Waits like `kubectl rollout status`: raw mode on the Deployment &lt;isvc&gt;-predictor, Knative mode on the
/// InferenceService's latestCreated/latestReadyRevision. Uses watches: resumes a cut stream from the last
/// resourceVersion, re-reads after a stream ends or on 410 Gone. Bounded by the timeout and the token.
/// </summary>
public sealed class RolloutWatcher(
    IKubernetes client,
    IOptions<KubernetesOptions> options,
    TimeProvider timeProvider,
    ILogger<RolloutWatcher> logger) : IRolloutWatcher
{
    public const string ProgressDeadlineExceeded = "ProgressDeadlineExceeded";
    public const string RestartReverted = "RestartReverted";
    public const string InferenceServiceDeleted = "InferenceServiceDeleted";
    private static readonly string[] TerminalRevisionReasons = ["RevisionFailed", "RevisionMissing"];

    /// <summary>How far a rollout got: final when <see cref="Outcome"/> is set, else a progress sentence.</summary>
    /// <param name="RecheckSoon">The object alone may not change again when the awaited state arrives (pods replaced
    /// behind an unchanged Deployment status): read again after RecheckInterval instead of waiting for an event.</param>
    private sealed record Verdict(RolloutOutcome? Outcome, string Progress, bool RecheckSoon = false)
    {
        public static Verdict Waiting(string progress, bool recheckSoon = false) => new(null, progress, recheckSoon);
        public static Verdict Complete(string message) => new(new RolloutOutcome(RolloutResult.Complete, null, message), message);
        public static Verdict Failed(string reason, string message) => new(new RolloutOutcome(RolloutResult.Failed, reason, message), message);
    }

    public async Task<RolloutOutcome> WaitAsync(InferenceServiceSnapshot isvc, RestartTicket? restart, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        var progress = new StrongBox<string>("the rollout has not been observed yet");
        try
        {
            return isvc.DeploymentMode == InferenceServiceJson.Serverless
                ? await WatchAsync(KnativeSource(isvc, restart), progress, linked.Token)
                : await WatchAsync(DeploymentSource(isvc, restart), progress, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new RolloutOutcome(RolloutResult.TimedOut, null,
                $"The predictor of {isvc.Namespace}/{isvc.Name} did not finish rolling out within {timeout}; last seen: {progress.Value}");
        }
    }

    private sealed class StrongBox<T>(T value)
    {
        public T Value { get; set; } = value;
    }

    /// <summary>How to watch and judge one object.</summary>
    private sealed record Source<T>(
        string Description,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Object)>> Watch,
        Func<T, string?> ResourceVersionOf,
        Func<T?, CancellationToken, Task<Verdict>> Evaluate) where T : class;

    private async Task<RolloutOutcome> WatchAsync<T>(Source<T> source, StrongBox<string> progress, CancellationToken cancellationToken) where T : class
    {
        string? resourceVersion = null;
        var recheckSoon = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // (Re)start from "now": with no resourceVersion the server first sends the object's current state as
            // ADDED, so no separate GET is needed, and an object unchanged for longer than the server's watch window
            // cannot send the watch into a loop of 410 Gone (its own resourceVersion would already be too old).
            resourceVersion ??= "";

            var gone = false;
            using var recheck = new CancellationTokenSource(recheckSoon ? options.Value.RecheckInterval : Timeout.InfiniteTimeSpan, timeProvider);
            using var streamCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, recheck.Token);
            try
            {
                var stream = source.Watch(resourceVersion, error =>
                {
                    if (KubernetesErrors.StatusOf(error) == HttpStatusCode.Gone)
                    {
                        gone = true;
                    }
                    else
                    {
                        logger.LogWarning(error, "Watch of {Object} reported an error; it will be re-read.", source.Description);
                    }
                }, streamCancellation.Token);
                await foreach (var (type, item) in stream.WithCancellation(streamCancellation.Token))
                {
                    if (item is not null && source.ResourceVersionOf(item) is { Length: > 0 } seen)
                    {
                        resourceVersion = seen;
                    }

                    if (type is WatchEventType.Bookmark or WatchEventType.Error)
                    {
                        continue;
                    }

                    var verdict = await source.Evaluate(type == WatchEventType.Deleted ? null : item, cancellationToken);
                    progress.Value = verdict.Progress;
                    if (verdict.Outcome is { } outcome)
                    {
                        return outcome;
                    }

                    if (verdict.RecheckSoon && !recheckSoon)
                    {
                        recheckSoon = true;
                        recheck.CancelAfter(options.Value.RecheckInterval);
                    }
                }

                // The server ended the stream (its timeout) or said 410 Gone: read afresh, then watch from there.
                logger.LogDebug("Watch of {Object} ended{Gone}; re-reading.", source.Description, gone ? " with 410 Gone" : "");
                resourceVersion = null;
            }
            catch (OperationCanceledException) when (recheck.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                resourceVersion = null; // time to look again without an event
            }
            catch (Exception error) when (error.Is(HttpStatusCode.Gone))
            {
                logger.LogDebug("resourceVersion {ResourceVersion} of {Object} is too old (410 Gone); re-reading.", resourceVersion, source.Description);
                resourceVersion = null;
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested && IsTransient(error))
            {
                // A cut stream or an unavailable API server: resume from the last resourceVersion seen.
                logger.LogInformation("Watch of {Object} was interrupted ({Error}); resuming from resourceVersion {ResourceVersion}.",
                    source.Description, error.GetType().Name, resourceVersion);
                await Task.Delay(options.Value.WatchReconnectDelay, timeProvider, cancellationToken);
            }
        }
    }

    private static bool IsTransient(Exception error) => error switch
    {
        HttpRequestException or IOException => true,
        _ => KubernetesErrors.StatusOf(error) is { } status && KubernetesResiliencePipeline.IsTransient(status),
    };

    private int WatchSeconds => Math.Max(1, (int)Math.Ceiling(options.Value.WatchTimeout.TotalSeconds));

    // ---- raw mode -------------------------------------------------------------------------------------------

    private Source<V1Deployment> DeploymentSource(InferenceServiceSnapshot isvc, RestartTicket? restart)
    {
        var name = PredictorNames.Deployment(isvc.Name);
        var kind = restart is null ? null : restart.After.RestartedAt == restart.RestartedAt ? RestartStrategies.InferenceService : options.Value.RestartStrategy;
        return new Source<V1Deployment>(
            $"Deployment {isvc.Namespace}/{name}",
            (resourceVersion, onError, cancellationToken) => client.AppsV1.WatchListNamespacedDeploymentAsync(
                isvc.Namespace, allowWatchBookmarks: true, fieldSelector: $"metadata.name={name}",
                resourceVersion: resourceVersion, timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken),
            deployment => deployment.Metadata?.ResourceVersion,
            (deployment, cancellationToken) => EvaluateDeploymentAsync(isvc, name, deployment, restart, kind, cancellationToken));
    }

    private async Task<Verdict> EvaluateDeploymentAsync(InferenceServiceSnapshot isvc, string name, V1Deployment? deployment, RestartTicket? restart, string? kind, CancellationToken cancellationToken)
    {
        if (deployment is null)
        {
            return Verdict.Waiting($"Deployment {name} does not exist yet.");
        }

        var status = deployment.Status;
        if (status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing" && c.Reason == ProgressDeadlineExceeded) is { } stuck)
        {
            return Verdict.Failed(ProgressDeadlineExceeded, $"Deployment {name} exceeded its progress deadline: {stuck.Message}");
        }

        var observed = status?.ObservedGeneration ?? 0;
        var generation = deployment.Metadata?.Generation ?? 0;
        var template = deployment.Spec?.Template?.Metadata?.Annotations;
        if (restart is not null && kind == RestartStrategies.InferenceService
            && (template is null || !template.TryGetValue(ContractAnnotations.RestartedAt, out var copied) || copied != restart.RestartedAt))
        {
            return Verdict.Waiting($"Waiting for KServe to roll restart {restart.RestartedAt} into Deployment {name}.");
        }

        if (restart is not null && kind == RestartStrategies.Deployment
            && (template is null || !template.TryGetValue(RestartSupport.KubectlRestartedAt, out var stamped) || stamped != restart.RestartedAt))
        {
            return observed >= generation
                ? Verdict.Failed(RestartReverted, $"The restart of Deployment {name} was reverted (most likely by the KServe controller); use the inferenceservice restart strategy.")
                : Verdict.Waiting($"Waiting for Deployment {name} to observe the restart.");
        }

        if (observed < generation)
        {
            return Verdict.Waiting($"Waiting for deployment {name} spec update to be observed.");
        }

        var replicas = deployment.Spec?.Replicas ?? 1;
        var updated = status?.UpdatedReplicas ?? 0;
        var current = status?.Replicas ?? 0;
        var available = status?.AvailableReplicas ?? 0;
        if (updated < replicas)
        {
            return Verdict.Waiting($"Waiting for deployment {name} rollout to finish: {updated} out of {replicas} new replicas have been updated.");
        }

        if (current > updated)
        {
            return Verdict.Waiting($"Waiting for deployment {name} rollout to finish: {current - updated} old replicas are pending termination.");
        }

        if (available < updated)
        {
            return Verdict.Waiting($"Waiting for deployment {name} rollout to finish: {available} of {updated} updated replicas are available.");
        }

        if (restart is not null && kind == RestartStrategies.DeletePods)
        {
            // The Deployment's status may still describe the deleted pods: count the replacements themselves.
            var (stale, freshReady) = await CountPodsAsync(isvc, restart.RestartedAt, cancellationToken);
            if (stale > 0 || freshReady < replicas)
            {
                return Verdict.Waiting($"Waiting for the predictor pods to be replaced: {freshReady} of {replicas} new pods ready, {stale} old pods left.", recheckSoon: true);
            }
        }

        return Verdict.Complete($"Deployment {name} rolled out: {updated} of {replicas} replicas updated and available.");
    }

    /// <summary>Predictor pods not terminating that were created before the restart (creationTimestamp has second
    /// precision, so "before" means an earlier second), and ready ones created since.</summary>
    private async Task<(int Stale, int FreshReady)> CountPodsAsync(InferenceServiceSnapshot isvc, string restartedAt, CancellationToken cancellationToken)
    {
        var restart = DateTimeOffset.Parse(restartedAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var wholeSecond = new DateTimeOffset(restart.UtcTicks - restart.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero);
        var pods = await client.CoreV1.ListNamespacedPodAsync(isvc.Namespace, labelSelector: PredictorNames.PodSelector(isvc.Name), cancellationToken: cancellationToken);
        var live = pods.Items.Where(pod => pod.Metadata.DeletionTimestamp is null).ToList();
        var stale = live.Count(pod => pod.Metadata.CreationTimestamp is not { } created || PredictorPods.Utc(created) < wholeSecond);
        var freshReady = live.Count(pod => pod.Metadata.CreationTimestamp is { } created && PredictorPods.Utc(created) >= wholeSecond
            && pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
        return (stale, freshReady);
    }

    // ---- Knative mode ---------------------------------------------------------------------------------------

    private Source<JsonObject> KnativeSource(InferenceServiceSnapshot isvc, RestartTicket? restart) => new(
        $"InferenceService {isvc.Namespace}/{isvc.Name}",
        (resourceVersion, onError, cancellationToken) => WatchInferenceServiceAsync(isvc, resourceVersion, onError, cancellationToken),
        node => InferenceServiceJson.String(node["metadata"]?["resourceVersion"]),
        (node, cancellationToken) => EvaluateKnativeAsync(isvc, node, restart, cancellationToken));

    private async IAsyncEnumerable<(WatchEventType Type, JsonObject Object)> WatchInferenceServiceAsync(
        InferenceServiceSnapshot isvc, string resourceVersion, Action<Exception> onError,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var stream = client.CustomObjects.WatchListNamespacedCustomObjectAsync(
            InferenceServiceJson.Group, InferenceServiceJson.Version, isvc.Namespace, InferenceServiceJson.Plural,
            allowWatchBookmarks: true, fieldSelector: $"metadata.name={isvc.Name}", resourceVersion: resourceVersion,
            timeoutSeconds: WatchSeconds, onError: onError, cancellationToken: cancellationToken);
        await foreach (var (type, item) in stream.WithCancellation(cancellationToken))
        {
            yield return (type, InferenceServiceJson.ToNode(item));
        }
    }

    private async Task<Verdict> EvaluateKnativeAsync(InferenceServiceSnapshot isvc, JsonObject? node, RestartTicket? restart, CancellationToken cancellationToken)
    {
        if (node is null)
        {
            return Verdict.Failed(InferenceServiceDeleted, $"InferenceService {isvc.Namespace}/{isvc.Name} was deleted during the rollout.");
        }

        var conditions = node["status"]?["conditions"] as JsonArray ?? [];
        foreach (var condition in conditions.OfType<JsonObject>())
        {
            var reason = InferenceServiceJson.String(condition["reason"]);
            if (InferenceServiceJson.String(condition["status"]) == "False" && reason is not null && TerminalRevisionReasons.Contains(reason))
            {
                return Verdict.Failed(reason, $"{InferenceServiceJson.String(condition["type"])} is False ({reason}): {InferenceServiceJson.String(condition["message"])}");
            }
        }

        var snapshot = InferenceServiceJson.ToSnapshot(node);
        var created = snapshot.LatestCreatedRevision;
        var ready = snapshot.LatestReadyRevision;
        if (created is null)
        {
            return Verdict.Waiting("Waiting for the first predictor revision.");
        }

        if (created != ready)
        {
            return Verdict.Waiting($"Waiting for revision {created} to become ready (latest ready: {ready ?? "none"}).");
        }

        if (restart is not null
            && !(restart.After.LatestCreatedRevision is { } before && IsNewerRevision(created, before))
            && !await RevisionPodsCarryAsync(isvc, created, restart.RestartedAt, cancellationToken))
        {
            // Neither a revision newer than the one at restart time, nor (when resuming with a ticket rebuilt from a
            // later read) pods of the ready revision stamped with this restart: KServe has not rolled it out yet.
            return Verdict.Waiting($"Waiting for a revision that carries restart {restart.RestartedAt} (latest: {created}).");
        }

        return Verdict.Complete($"Revision {ready} is ready.");
    }

    private async Task<bool> RevisionPodsCarryAsync(InferenceServiceSnapshot isvc, string revision, string restartedAt, CancellationToken cancellationToken)
    {
        var selector = $"{PredictorNames.PodSelector(isvc.Name)},{PredictorNames.RevisionLabel}={revision}";
        var pods = await client.CoreV1.ListNamespacedPodAsync(isvc.Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        var live = pods.Items.Where(pod => pod.Metadata.DeletionTimestamp is null).ToList();
        return live.Count > 0 && live.All(pod => pod.Metadata.Annotations?.TryGetValue(ContractAnnotations.RestartedAt, out var stamp) == true && stamp == restartedAt);
    }

    /// <summary>Revisions are named &lt;isvc&gt;-predictor-0000N; compare N, else any different name is newer.</summary>
    internal static bool IsNewerRevision(string? candidate, string before)
    {
        if (candidate is null || candidate == before)
        {
            return false;
        }

        return RevisionNumber(candidate) is { } number && RevisionNumber(before) is { } previous ? number > previous : true;

        static long? RevisionNumber(string revision)
        {
            var dash = revision.LastIndexOf('-');
            return dash >= 0 && long.TryParse(revision.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
        }
    }
}
