namespace ArgoHooks.Health;

/// <summary>The verdict of a health script, as Argo CD reports it.</summary>
public sealed record HealthStatus(string Status, string Message);
