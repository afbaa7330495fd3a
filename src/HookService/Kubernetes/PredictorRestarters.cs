using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>Pieces the three restart strategies share: the guarded phase write and the restart stamp.</summary>
public sealed class RestartSupport(InferenceServiceStore store, KubernetesEventRecorder events, TimeProvider timeProvider)
{
    public const string KubectlRestartedAt = "kubectl.kubernetes.io/restartedAt";

    public TimeProvider TimeProvider => timeProvider;

    /// <summary>RFC 3339 UTC with milliseconds, so two restarts within one second still differ.</summary>
    public string NewStamp(string? previous)
    {
        var now = timeProvider.GetUtcNow().ToUniversalTime();
        var stamp = Format(now);
        return stamp == previous ? Format(now.AddMilliseconds(1)) : stamp;

        static string Format(DateTimeOffset time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// One merge patch guarded by <paramref name="current"/>'s resourceVersion: the contract annotations of
    /// <paramref name="restarting"/> (with <paramref name="generation"/>) plus <paramref name="specPatch"/> if any.
    /// A 409 means someone else changed the object since it was read: <see cref="ConcurrentChangeException"/>.
    /// </summary>
    public async Task<InferenceServiceSnapshot> GuardedWriteAsync(InferenceServiceSnapshot current, PhaseRecord restarting, long generation, JsonObject? specPatch, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(current.ResourceVersion))
        {
            throw new ArgumentException("The snapshot has no resourceVersion; a guarded restart needs one.", nameof(current));
        }

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = current.ResourceVersion,
                ["annotations"] = InferenceServiceJson.ContractAnnotationPatch(restarting, generation),
            },
        };
        if (specPatch is not null)
        {
            patch["spec"] = specPatch;
        }

        InferenceServiceSnapshot written;
        try
        {
            written = await store.PatchAsync(current.Namespace, current.Name, patch, cancellationToken);
        }
        catch (Exception error) when (error.Is(HttpStatusCode.Conflict))
        {
            throw new ConcurrentChangeException(
                $"InferenceService {current.Namespace}/{current.Name} changed since resourceVersion {current.ResourceVersion} was read; read it again and decide again.");
        }
        catch (Exception error) when (error.Is(HttpStatusCode.NotFound))
        {
            // Deleted since it was read: also a change underneath; the caller's fresh read finds it gone.
            throw new ConcurrentChangeException(
                $"InferenceService {current.Namespace}/{current.Name} was deleted after resourceVersion {current.ResourceVersion} was read.");
        }

        await events.RecordAsync(written, restarting.Phase, InferenceServiceStore.ActionOf(restarting.Phase), restarting.Message, warning: false, cancellationToken);
        return written;
    }

    public Task<InferenceServiceSnapshot> RecordPhaseAsync(InferenceServiceSnapshot current, PhaseRecord record, CancellationToken cancellationToken) =>
        store.RecordPhaseAsync(current, record, cancellationToken);
}

/// <summary>
/// Default strategy: sets spec.predictor.annotations["argohooks.io/restarted-at"]; KServe copies it into the
/// Deployment's pod template (raw) or a new revision (Knative). The same patch records phase Restarting with
/// generation = current + 1 (the spec change bumps metadata.generation) under the resourceVersion precondition.
/// </summary>
public sealed class InferenceServiceRestarter(RestartSupport support, ILogger<InferenceServiceRestarter> logger) : IPredictorRestarter
{
    public string Strategy => RestartStrategies.InferenceService;

    public async Task<RestartTicket> RestartAsync(InferenceServiceSnapshot current, PhaseRecord restarting, CancellationToken cancellationToken)
    {
        var restartedAt = support.NewStamp(current.RestartedAt);
        var expectedGeneration = current.Generation + 1;
        var specPatch = new JsonObject
        {
            ["predictor"] = new JsonObject { ["annotations"] = new JsonObject { [ContractAnnotations.RestartedAt] = restartedAt } },
        };
        var written = await support.GuardedWriteAsync(current, restarting, expectedGeneration, specPatch, cancellationToken);
        if (written.Generation != expectedGeneration)
        {
            // Not expected from a real API server, but the phase must name the generation it applies to.
            logger.LogWarning("InferenceService {Namespace}/{Name} is at generation {Actual} after the restart patch, expected {Expected}; correcting the phase annotation.",
                current.Namespace, current.Name, written.Generation, expectedGeneration);
            written = await support.RecordPhaseAsync(written, restarting with { Generation = written.Generation }, cancellationToken);
        }

        return new RestartTicket(written, restartedAt);
    }
}

/// <summary>
/// `kubectl rollout restart` semantics: after the guarded Restarting write, a strategic merge patch of
/// kubectl.kubernetes.io/restartedAt on the Deployment &lt;isvc&gt;-predictor's pod template. The KServe
/// controller may revert it; the rollout watcher reports that instead of waiting forever. Knative mode has no
/// such Deployment: it falls back to the default strategy.
/// </summary>
public sealed class DeploymentRestarter(IKubernetes client, RestartSupport support, InferenceServiceRestarter fallback, Microsoft.Extensions.Options.IOptions<KubernetesOptions> options, ILogger<DeploymentRestarter> logger) : IPredictorRestarter
{
    public string Strategy => RestartStrategies.Deployment;

    public async Task<RestartTicket> RestartAsync(InferenceServiceSnapshot current, PhaseRecord restarting, CancellationToken cancellationToken)
    {
        if (current.DeploymentMode == InferenceServiceJson.Serverless)
        {
            logger.LogInformation("InferenceService {Namespace}/{Name} runs in Knative mode, which has no predictor Deployment to restart; using the inferenceservice strategy.", current.Namespace, current.Name);
            return await fallback.RestartAsync(current, restarting, cancellationToken);
        }

        var written = await support.GuardedWriteAsync(current, restarting, current.Generation, specPatch: null, cancellationToken);
        var restartedAt = support.NewStamp(null);
        var patch = new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["template"] = new JsonObject
                {
                    ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [RestartSupport.KubectlRestartedAt] = restartedAt } },
                },
            },
        };
        var deployment = PredictorNames.Deployment(current.Name);
        try
        {
            await client.AppsV1.PatchNamespacedDeploymentAsync(
                new V1Patch(patch.ToJsonString(), V1Patch.PatchType.StrategicMergePatch), deployment, current.Namespace,
                fieldManager: options.Value.FieldManager, cancellationToken: cancellationToken);
        }
        catch (Exception error) when (error.Is(HttpStatusCode.NotFound))
        {
            throw new InvalidOperationException($"Deployment {current.Namespace}/{deployment} does not exist; is the InferenceService really in RawDeployment mode?", error);
        }

        return new RestartTicket(written, restartedAt);
    }
}

/// <summary>
/// Deletes the current predictor pods after the guarded Restarting write; the ReplicaSet recreates them, and a
/// model server loads its model once at start-up. Knative mode falls back to the default strategy.
/// </summary>
public sealed class DeletePodsRestarter(IKubernetes client, RestartSupport support, InferenceServiceRestarter fallback, ILogger<DeletePodsRestarter> logger) : IPredictorRestarter
{
    public string Strategy => RestartStrategies.DeletePods;

    public async Task<RestartTicket> RestartAsync(InferenceServiceSnapshot current, PhaseRecord restarting, CancellationToken cancellationToken)
    {
        if (current.DeploymentMode == InferenceServiceJson.Serverless)
        {
            logger.LogInformation("InferenceService {Namespace}/{Name} runs in Knative mode, where deleted pods come back as the same revision; using the inferenceservice strategy.", current.Namespace, current.Name);
            return await fallback.RestartAsync(current, restarting, cancellationToken);
        }

        var written = await support.GuardedWriteAsync(current, restarting, current.Generation, specPatch: null, cancellationToken);
        var restartedAt = support.NewStamp(null);
        var pods = await client.CoreV1.ListNamespacedPodAsync(current.Namespace, labelSelector: PredictorNames.PodSelector(current.Name), cancellationToken: cancellationToken);
        foreach (var pod in pods.Items.Where(pod => pod.Metadata.DeletionTimestamp is null))
        {
            try
            {
                await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, current.Namespace, cancellationToken: cancellationToken);
                logger.LogInformation("Deleted predictor pod {Namespace}/{Pod} of InferenceService {Name}.", current.Namespace, pod.Metadata.Name, current.Name);
            }
            catch (Exception error) when (error.Is(HttpStatusCode.NotFound))
            {
                logger.LogDebug("Predictor pod {Namespace}/{Pod} was already gone.", current.Namespace, pod.Metadata.Name);
            }
        }

        return new RestartTicket(written, restartedAt);
    }
}

public static class PredictorNames
{
    public const string InferenceServiceLabel = "serving.kserve.io/inferenceservice";
    public const string ComponentLabel = "component";
    public const string RevisionLabel = "serving.knative.dev/revision";
    public const string Container = "kserve-container";
    public const int DefaultPort = 8080;

    public static string Deployment(string isvc) => isvc + "-predictor";

    public static string PodSelector(string isvc) => $"{InferenceServiceLabel}={isvc},{ComponentLabel}=predictor";
}
