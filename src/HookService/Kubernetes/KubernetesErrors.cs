using System.Net;
using k8s.Autorest;

namespace ArgoHooks.HookService.Kubernetes;

internal static class KubernetesErrors
{
    /// <summary>The HTTP status of a failed API call, or null when the failure was not an HTTP answer.</summary>
    public static HttpStatusCode? StatusOf(Exception error) => error switch
    {
        HttpOperationException { Response: { } response } => response.StatusCode,
        k8s.KubernetesException { Status.Code: { } code } => (HttpStatusCode)code,
        _ => null,
    };

    public static bool Is(this Exception error, HttpStatusCode status) => StatusOf(error) == status;
}
