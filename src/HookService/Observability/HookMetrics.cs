using Prometheus;

namespace ArgoHooks.HookService.Observability;

/// <summary>
/// The hook service's Prometheus metrics. One instance per process (prometheus-net's default registry is
/// process-wide); other features (the Kubernetes adapters) call <see cref="KubernetesApiError"/>.
/// </summary>
public sealed class HookMetrics
{
    private static readonly Counter Runs = Metrics.CreateCounter(
        "argohooks_runs_total", "Finished runs by result (Succeeded or Failed).", "result");

    private static readonly Counter InferenceServiceOutcomes = Metrics.CreateCounter(
        "argohooks_inferenceservice_outcomes_total", "Finished InferenceServices by final phase (Verified or Failed).", "phase");

    private static readonly Histogram PhaseDurations = Metrics.CreateHistogram(
        "argohooks_phase_duration_seconds", "Time spent in each phase of one InferenceService.",
        new HistogramConfiguration
        {
            LabelNames = ["phase"],
            Buckets = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
        });

    private static readonly Counter Restarts = Metrics.CreateCounter(
        "argohooks_restarts_total", "Predictor restarts performed, by strategy.", "strategy");

    private static readonly Counter RestartsSkipped = Metrics.CreateCounter(
        "argohooks_restarts_skipped_total", "Restarts skipped because every ready pod already serves the artifact.");

    private static readonly Counter KubernetesApiErrors = Metrics.CreateCounter(
        "argohooks_kubernetes_api_errors_total", "Failed Kubernetes API calls, by operation and HTTP status (0 = no answer).",
        "operation", "status");

    public void RunFinished(bool succeeded) => Runs.WithLabels(succeeded ? "Succeeded" : "Failed").Inc();

    public void InferenceServiceFinished(string phase) => InferenceServiceOutcomes.WithLabels(phase).Inc();

    public void PhaseCompleted(string phase, TimeSpan duration) =>
        PhaseDurations.WithLabels(phase).Observe(Math.Max(0, duration.TotalSeconds));

    public void Restarted(string strategy) => Restarts.WithLabels(strategy).Inc();

    public void RestartSkipped() => RestartsSkipped.Inc();

    private static readonly Counter KubernetesApiRetries = Metrics.CreateCounter(
        "argohooks_kubernetes_api_retries_total", "Kubernetes API attempts that were retried, by operation and HTTP status.",
        "operation", "status");

    /// <param name="statusCode">The HTTP status the API server answered, or null when it did not answer.</param>
    public void KubernetesApiError(string operation, int? statusCode) =>
        KubernetesApiError(operation, (statusCode ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <param name="status">The HTTP status code, or what happened instead ("transport", "timeout").</param>
    public void KubernetesApiError(string operation, string status) => KubernetesApiErrors.WithLabels(operation, status).Inc();

    public void KubernetesApiRetry(string operation, string status) => KubernetesApiRetries.WithLabels(operation, status).Inc();
}
