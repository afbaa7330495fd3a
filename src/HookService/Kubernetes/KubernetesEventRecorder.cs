using System.Net;
using ArgoHooks.HookService.Healing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>
/// Emits a Kubernetes Event on an InferenceService: events.k8s.io/v1 when served, else core v1.
/// An Event is a courtesy: failing to write one is logged and never fails the caller.
/// </summary>
public sealed class KubernetesEventRecorder(IKubernetes client, IOptions<KubernetesOptions> options, TimeProvider timeProvider, ILogger<KubernetesEventRecorder> logger)
{
    public const string ReportingController = "argohooks.io/hook-service";
    public const string Component = "argohooks";

    private readonly string reportingInstance = ResolveInstance(options.Value);
    private volatile bool eventsV1Missing;

    public async Task RecordAsync(InferenceServiceSnapshot isvc, string reason, string action, string message, bool warning, CancellationToken cancellationToken)
    {
        try
        {
            if (!eventsV1Missing)
            {
                try
                {
                    await client.EventsV1.CreateNamespacedEventAsync(EventsV1(isvc, reason, action, message, warning), isvc.Namespace, cancellationToken: cancellationToken);
                    return;
                }
                catch (Exception error) when (error.Is(HttpStatusCode.NotFound))
                {
                    // An API server without events.k8s.io/v1 (or a namespace race): fall back to the core API from now on.
                    eventsV1Missing = true;
                    logger.LogInformation("events.k8s.io/v1 is not served; recording Events through the core v1 API.");
                }
            }

            await client.CoreV1.CreateNamespacedEventAsync(CoreV1(isvc, reason, action, message, warning), isvc.Namespace, cancellationToken: cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(error, "Could not record Event {Reason} on InferenceService {Namespace}/{Name} (status {Status}); the phase itself was written.",
                reason, isvc.Namespace, isvc.Name, KubernetesErrors.StatusOf(error));
        }
    }

    private Eventsv1Event EventsV1(InferenceServiceSnapshot isvc, string reason, string action, string message, bool warning) => new()
    {
        Metadata = new V1ObjectMeta { Name = EventName(isvc), NamespaceProperty = isvc.Namespace },
        EventTime = timeProvider.GetUtcNow().UtcDateTime,
        ReportingController = ReportingController,
        ReportingInstance = reportingInstance,
        Action = action,
        Reason = reason,
        Note = Truncate(message, 1024),
        Type = warning ? "Warning" : "Normal",
        Regarding = Reference(isvc),
    };

    private Corev1Event CoreV1(InferenceServiceSnapshot isvc, string reason, string action, string message, bool warning)
    {
        var now = timeProvider.GetUtcNow().UtcDateTime;
        return new Corev1Event
        {
            Metadata = new V1ObjectMeta { Name = EventName(isvc), NamespaceProperty = isvc.Namespace },
            InvolvedObject = Reference(isvc),
            Reason = reason,
            Action = action,
            Message = Truncate(message, 1024),
            Type = warning ? "Warning" : "Normal",
            Source = new V1EventSource { Component = Component },
            ReportingComponent = ReportingController,
            ReportingInstance = reportingInstance,
            FirstTimestamp = now,
            LastTimestamp = now,
            Count = 1,
        };
    }

    private static V1ObjectReference Reference(InferenceServiceSnapshot isvc) => new()
    {
        ApiVersion = InferenceServiceJson.ApiVersion,
        Kind = InferenceServiceJson.Kind,
        Name = isvc.Name,
        NamespaceProperty = isvc.Namespace,
        Uid = isvc.Uid.Length > 0 ? isvc.Uid : null,
        ResourceVersion = isvc.ResourceVersion.Length > 0 ? isvc.ResourceVersion : null,
    };

    // Like client-go's recorder: <object>.<unique hex suffix>.
    private string EventName(InferenceServiceSnapshot isvc) =>
        $"{isvc.Name}.{timeProvider.GetUtcNow().UtcTicks:x}{Random.Shared.Next(0x10000):x4}";

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string ResolveInstance(KubernetesOptions options) =>
        options.ReportingInstance is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable("HOSTNAME") is { Length: > 0 } host ? host
        : Environment.MachineName;
}
