using Prometheus;

namespace ArgoHooks.HookService.Continuous;

/// <summary>Prometheus metrics of continuous verification (process-wide, like <see cref="Observability.HookMetrics"/>).</summary>
public sealed class ContinuousMetrics
{
    private static readonly Counter Actions = Metrics.CreateCounter(
        "argohooks_continuous_actions_total",
        "Automatic actions by kind (restart, reverify, probe, resume) and result (Verified, Failed, Progressing, DryRun, Suppressed).",
        "kind", "result");

    private static readonly Counter SuppressedRestarts = Metrics.CreateCounter(
        "argohooks_continuous_restarts_suppressed_total", "Restarts not done because the InferenceService was restarted less than MinRestartInterval ago.");

    private static readonly Gauge LeaderState = Metrics.CreateGauge(
        "argohooks_continuous_leader", "1 while this replica is the continuous-verification leader, else 0.");

    private static readonly Counter WatchRestarts = Metrics.CreateCounter(
        "argohooks_continuous_watch_restarts_total", "Watches resumed (reason resume) or re-listed (reason relist) after a cut stream or 410 Gone.",
        "resource", "reason");

    private static readonly Counter Triggers = Metrics.CreateCounter(
        "argohooks_continuous_triggers_total", "Evaluations requested, by trigger (artifact, pod, probe, discovered, leadership, retry).", "trigger");

    public void Action(string kind, string result) => Actions.WithLabels(kind, result).Inc();

    public void RestartSuppressed() => SuppressedRestarts.Inc();

    public void Leader(bool leading) => LeaderState.Set(leading ? 1 : 0);

    public void WatchRestarted(string resource, string reason) => WatchRestarts.WithLabels(resource, reason).Inc();

    public void Triggered(string trigger) => Triggers.WithLabels(trigger).Inc();
}
