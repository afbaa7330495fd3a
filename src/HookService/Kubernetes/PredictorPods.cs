using System.Globalization;
using ArgoHooks.HookService.Healing;
using k8s;
using k8s.Models;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>The predictor pods behind an InferenceService (current revision in Knative mode), terminating ones excluded.</summary>
public sealed class PredictorPods(IKubernetes client) : IPredictorPods
{
    public async Task<IReadOnlyList<PredictorPod>> ListAsync(InferenceServiceSnapshot isvc, CancellationToken cancellationToken)
    {
        var pods = await client.CoreV1.ListNamespacedPodAsync(isvc.Namespace, labelSelector: Selector(isvc), cancellationToken: cancellationToken);
        return pods.Items
            .Where(pod => pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase is not ("Succeeded" or "Failed"))
            .Select(ToPredictorPod)
            .OrderBy(pod => pod.Name, StringComparer.Ordinal)
            .ToList();
    }

    public static string Selector(InferenceServiceSnapshot isvc)
    {
        var selector = PredictorNames.PodSelector(isvc.Name);
        return isvc.DeploymentMode == InferenceServiceJson.Serverless && isvc.LatestReadyRevision is { Length: > 0 } revision
            ? $"{selector},{PredictorNames.RevisionLabel}={revision}"
            : selector;
    }

    public static PredictorPod ToPredictorPod(V1Pod pod)
    {
        var container = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == PredictorNames.Container) ?? pod.Spec?.Containers?.FirstOrDefault();
        var port = container?.Ports?.FirstOrDefault()?.ContainerPort ?? PredictorNames.DefaultPort;
        var containerStatus = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == (container?.Name ?? PredictorNames.Container));
        var ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        // A pod without an IP is not serving yet; ".invalid" can never resolve (RFC 2606), so nothing is probed by accident.
        var host = pod.Status?.PodIP is { Length: > 0 } ip ? ip : "pod-ip-pending.invalid";
        var annotations = pod.Metadata.Annotations;
        string? restartedAt = null;
        if (annotations is not null && !annotations.TryGetValue(ContractAnnotations.RestartedAt, out restartedAt))
        {
            annotations.TryGetValue(RestartSupport.KubectlRestartedAt, out restartedAt);
        }

        DateTimeOffset? startedAt = containerStatus?.State?.Running?.StartedAt is { } started ? Utc(started) : null;
        return new PredictorPod(
            pod.Metadata.Name,
            pod.Metadata.Uid ?? "",
            new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{(host.Contains(':') ? $"[{host}]" : host)}:{port}/")),
            ready && pod.Status?.PodIP is { Length: > 0 },
            startedAt,
            restartedAt);
    }

    /// <summary>Kubernetes timestamps are UTC; the client may hand them out as Unspecified or Local kinds.</summary>
    public static DateTimeOffset Utc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => new DateTimeOffset(time.ToUniversalTime(), TimeSpan.Zero),
        _ => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc), TimeSpan.Zero),
    };
}
