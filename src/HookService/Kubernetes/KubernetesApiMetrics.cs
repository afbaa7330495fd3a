using System.Diagnostics.Metrics;
using ArgoHooks.HookService.Observability;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>
/// Counts Kubernetes API trouble. Failed attempts go to the service's Prometheus counter
/// (<see cref="HookMetrics.KubernetesApiError"/>, argohooks_kubernetes_api_errors_total) when it is registered;
/// retries to the counter argohooks_kubernetes_api_retries on the "ArgoHooks" System.Diagnostics.Metrics meter
/// (exported by prometheus-net's meter adapter). Plain totals are kept too, for tests and logs.
/// </summary>
public sealed class KubernetesApiMetrics : IDisposable
{
    public const string MeterName = "ArgoHooks";

    private readonly Meter meter;
    private readonly Counter<long> retries;
    private readonly HookMetrics? hookMetrics;
    private long errorTotal;
    private long retryTotal;

    public KubernetesApiMetrics(IMeterFactory? meterFactory = null, HookMetrics? hookMetrics = null)
    {
        this.hookMetrics = hookMetrics;
        meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        retries = meter.CreateCounter<long>("argohooks_kubernetes_api_retries", description: "Kubernetes API attempts that were retried, by method, resource and code.");
    }

    public long ErrorTotal => Interlocked.Read(ref errorTotal);

    public long RetryTotal => Interlocked.Read(ref retryTotal);

    /// <param name="statusCode">The HTTP status, or null when the API server did not answer (transport error, timeout).</param>
    public void ApiError(string method, Uri? uri, int? statusCode)
    {
        Interlocked.Increment(ref errorTotal);
        hookMetrics?.KubernetesApiError($"{method} {ResourceOf(uri)}", statusCode);
    }

    public void Retry(string method, Uri? uri, string code)
    {
        Interlocked.Increment(ref retryTotal);
        retries.Add(1,
            new KeyValuePair<string, object?>("method", method),
            new KeyValuePair<string, object?>("resource", ResourceOf(uri)),
            new KeyValuePair<string, object?>("code", code));
    }

    /// <summary>The resource (plural, with subresource) of an API path, so metric labels stay few: never names or namespaces.</summary>
    internal static string ResourceOf(Uri? uri)
    {
        if (uri is null)
        {
            return "unknown";
        }

        var segments = uri.AbsolutePath.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        // /api/v1/... or /apis/<group>/<version>/...
        var rest = segments switch
        {
            ["api", _, .. var tail] => tail,
            ["apis", _, _, .. var tail] => tail,
            _ => [],
        };
        if (rest is ["namespaces", _, .. var namespaced] && namespaced.Length > 0)
        {
            rest = namespaced;
        }

        return rest switch
        {
            [var resource, _, var subresource, ..] => $"{resource}/{subresource}",
            [var resource, ..] => resource,
            _ => "unknown",
        };
    }

    public void Dispose() => meter.Dispose();
}
