using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Kubernetes;

/// <summary>ArgoHooks:Kubernetes — how to reach the API server, how to restart, how patient to be.</summary>
public sealed class KubernetesOptions
{
    public const string SectionName = "ArgoHooks:Kubernetes";

    /// <summary>API server URL override (tests/demo point it at the emulator); needs <see cref="Token"/>.</summary>
    public string? Host { get; set; }

    /// <summary>Bearer token used with <see cref="Host"/>.</summary>
    public string? Token { get; set; }

    /// <summary>Skip TLS verification for <see cref="Host"/> (never for in-cluster config).</summary>
    public bool SkipTlsVerify { get; set; }

    /// <summary>Kubeconfig file; default: KUBECONFIG, else ~/.kube/config. Ignored in-cluster and with <see cref="Host"/>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Kubeconfig context; default: the current context.</summary>
    public string? Context { get; set; }

    /// <summary>inferenceservice (default) | deployment | delete-pods.</summary>
    public string RestartStrategy { get; set; } = RestartStrategies.InferenceService;

    public string FieldManager { get; set; } = "argohooks";

    /// <summary>Timeout of one HTTP attempt (headers and body) of a non-watch request.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Timeout of one API operation including all its retries.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Retries after the first attempt of a failed (429, 5xx, connection error) request.</summary>
    public int MaxRetries { get; set; } = 6;

    /// <summary>First backoff delay; doubles per retry with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of a server-requested Retry-After delay.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Server-side timeout of one watch request; the rollout watcher re-reads and re-watches after it.</summary>
    public TimeSpan WatchTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Pause before re-opening a watch that failed with a connection error.</summary>
    public TimeSpan WatchReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How soon the rollout watcher looks again when the awaited change may not produce a watch event (delete-pods).</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>events.k8s.io reportingInstance; default: HOSTNAME (the pod name) or the machine name.</summary>
    public string? ReportingInstance { get; set; }
}

public static class RestartStrategies
{
    public const string InferenceService = "inferenceservice";
    public const string Deployment = "deployment";
    public const string DeletePods = "delete-pods";

    public static readonly IReadOnlyList<string> All = [InferenceService, Deployment, DeletePods];
}

internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        var failures = new List<string>();
        const string prefix = KubernetesOptions.SectionName + ":";
        if (!RestartStrategies.All.Contains(options.RestartStrategy))
        {
            failures.Add($"{prefix}RestartStrategy must be one of {string.Join(", ", RestartStrategies.All)}; got '{options.RestartStrategy}'.");
        }

        if (string.IsNullOrWhiteSpace(options.FieldManager) || options.FieldManager.Length > 128)
        {
            failures.Add($"{prefix}FieldManager must be a non-empty name of at most 128 characters.");
        }

        if (!string.IsNullOrWhiteSpace(options.Host))
        {
            if (!Uri.TryCreate(options.Host, UriKind.Absolute, out var host) || (host.Scheme != Uri.UriSchemeHttp && host.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{prefix}Host must be an absolute http(s) URL; got '{options.Host}'.");
            }

            if (string.IsNullOrWhiteSpace(options.Token))
            {
                failures.Add($"{prefix}Token is required when {prefix}Host is set.");
            }
        }

        Positive(options.RequestTimeout, nameof(options.RequestTimeout));
        Positive(options.OperationTimeout, nameof(options.OperationTimeout));
        Positive(options.RetryBaseDelay, nameof(options.RetryBaseDelay));
        Positive(options.MaxRetryAfter, nameof(options.MaxRetryAfter));
        Positive(options.WatchTimeout, nameof(options.WatchTimeout));
        Positive(options.WatchReconnectDelay, nameof(options.WatchReconnectDelay));
        Positive(options.RecheckInterval, nameof(options.RecheckInterval));
        if (options.OperationTimeout < options.RequestTimeout)
        {
            failures.Add($"{prefix}OperationTimeout must not be shorter than {prefix}RequestTimeout.");
        }

        if (options.MaxRetries is < 0 or > 20)
        {
            failures.Add($"{prefix}MaxRetries must be between 0 and 20; got {options.MaxRetries}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Positive(TimeSpan value, string field)
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromHours(1))
            {
                failures.Add($"{prefix}{field} must be between 0 (exclusive) and 01:00:00; got {value}.");
            }
        }
    }
}
