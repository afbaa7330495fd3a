namespace ArgoHooks.Demo.Reliability;

/// <summary>Where one InferenceService ended, in the cluster's own terms.</summary>
public sealed record InferenceServiceOutcome(
    string Name, string? Phase, string? Message, string? Digest, int Restarts, bool Serves, string Health, string HealthMessage);

/// <summary>
/// One reliability scenario: what was injected, what happened, the invariant and whether it held, plus the raw
/// facts (exit codes, per-InferenceService outcomes, figures) the tests assert on.
/// </summary>
public sealed record ScenarioResult(
    string Name,
    string Injected,
    string Invariant,
    bool Held,
    IReadOnlyList<string> Happened,
    IReadOnlyList<int> ExitCodes,
    IReadOnlyDictionary<string, InferenceServiceOutcome> InferenceServices,
    IReadOnlyDictionary<string, double> Figures);
