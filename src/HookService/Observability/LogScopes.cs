using Microsoft.Extensions.Logging;

namespace ArgoHooks.HookService.Observability;

/// <summary>Log scopes that put the run id and the InferenceService on every line (JSON console: "Scopes").</summary>
public static class LogScopes
{
    public static IDisposable? BeginRun(this ILogger logger, string runId, string @namespace) =>
        logger.BeginScope(new Dictionary<string, object> { ["RunId"] = runId, ["Namespace"] = @namespace });

    public static IDisposable? BeginInferenceService(this ILogger logger, string runId, string @namespace, string name) =>
        logger.BeginScope(new Dictionary<string, object>
        {
            ["RunId"] = runId,
            ["Namespace"] = @namespace,
            ["InferenceService"] = name,
        });
}
