using System.Diagnostics.Metrics;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>
/// Counters of Kubernetes API trouble, on the "ArgoHooks" meter (prometheus-net exports System.Diagnostics.Metrics).
/// Also kept as plain totals so tests and logs can read them without a listener.
/// </summary>
public sealed class KubernetesApiMetrics : IDisposable
{
    public const string MeterName = "ArgoHooks";

    private readonly Meter meter;
    private readonly Counter<long> errors;
    private readonly Counter<long> retries;
    private long errorTotal;
    private long retryTotal;

    public KubernetesApiMetrics(IMeterFactory? meterFactory = null)
    {
        meter = meterFactory?.Create(MeterName) ?? new Meter(MeterName);
        errors = meter.CreateCounter<long>("argohooks_kubernetes_api_errors", description: "Kubernetes API attempts that failed (HTTP status >= 400 or a transport error).");
        retries = meter.CreateCounter<long>("argohooks_kubernetes_api_retries", description: "Kubernetes API attempts that were retried.");
    }

    public long ErrorTotal => Interlocked.Read(ref errorTotal);

    public long RetryTotal => Interlocked.Read(ref retryTotal);

    /// <param name="code">The HTTP status code, or "transport"/"timeout".</param>
    public void ApiError(string method, string code)
    {
        Interlocked.Increment(ref errorTotal);
        errors.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("code", code));
    }

    public void Retry(string method, string code)
    {
        Interlocked.Increment(ref retryTotal);
        retries.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("code", code));
    }

    public void Dispose() => meter.Dispose();
}
