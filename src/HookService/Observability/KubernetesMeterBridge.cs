using System.Diagnostics.Metrics;

namespace ArgoHooks.HookService.Observability;

/// <summary>
/// Forwards the Kubernetes adapters' System.Diagnostics.Metrics counters (meter "ArgoHooks":
/// argohooks_kubernetes_api_errors / _retries, tagged method and code) to <see cref="HookMetrics"/>, so they
/// appear on /metrics: prometheus-net's meter adapter did not export them here.
/// </summary>
public sealed class KubernetesMeterBridge(HookMetrics metrics) : IHostedService, IDisposable
{
    public const string MeterName = "ArgoHooks";
    private const string Errors = "argohooks_kubernetes_api_errors";
    private const string Retries = "argohooks_kubernetes_api_retries";

    private MeterListener? listener;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        listener = new MeterListener
        {
            InstrumentPublished = (instrument, meterListener) =>
            {
                if (instrument.Meter.Name == MeterName && instrument.Name is Errors or Retries)
                {
                    meterListener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string operation = "unknown", status = "unknown";
            foreach (var tag in tags)
            {
                if (tag.Key == "method") operation = tag.Value?.ToString() ?? operation;
                if (tag.Key == "code") status = tag.Value?.ToString() ?? status;
            }

            for (var i = 0; i < value; i++)
            {
                if (instrument.Name == Errors) metrics.KubernetesApiError(operation, status);
                else metrics.KubernetesApiRetry(operation, status);
            }
        });
        listener.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        listener?.Dispose();
        listener = null;
        return Task.CompletedTask;
    }

    public void Dispose() => listener?.Dispose();
}
