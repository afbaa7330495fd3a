using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Continuous;

/// <summary>ArgoHooks:Continuous — continuous verification of opted-in InferenceServices (default off).</summary>
public sealed class ContinuousOptions
{
    public const string Section = "ArgoHooks:Continuous";

    public bool Enabled { get; set; }

    /// <summary>Namespaces in which every InferenceService with a pvc:// storageUri is verified continuously.</summary>
    public List<string> Namespaces { get; set; } = [];

    /// <summary>Where to watch for InferenceServices annotated argohooks.io/verify: continuous; empty = every namespace
    /// (one cluster-wide watch; needs cluster-wide list/watch RBAC). <see cref="Namespaces"/> are always watched.</summary>
    public List<string> WatchNamespaces { get; set; } = [];

    /// <summary>Only report (log, Event "would restart ...", metric) what would be done; change nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>How often every ready predictor pod of an opted-in InferenceService is probed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00")]
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>At most one automatic restart per InferenceService within this interval (a flapping file never causes a storm).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan MinRestartInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Automatic restart/verify actions in flight at once, over all namespaces.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentRestarts { get; set; } = 4;

    /// <summary>Automatic restart/verify actions in flight at once within one namespace.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentRestartsPerNamespace { get; set; } = 1;

    /// <summary>First interval of the artifact folder polling; doubled while nothing changes, up to <see cref="ArtifactPollMaxInterval"/>.
    /// A FileSystemWatcher wakes the poller early where the file system reports changes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ArtifactPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ArtifactPollMaxInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a changed model file may take to become stable (size and mtime unchanged over Artifacts:SettleInterval).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ArtifactSettleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public ContinuousLeaderElectionOptions LeaderElection { get; set; } = new();
}

/// <summary>ArgoHooks:Continuous:LeaderElection — a coordination.k8s.io/v1 Lease so that only one replica acts.</summary>
public sealed class ContinuousLeaderElectionOptions
{
    public bool Enabled { get; set; } = true;

    public string LeaseName { get; set; } = "argohooks-continuous";

    /// <summary>Default: the POD_NAMESPACE environment variable (downward API), else "default".</summary>
    public string? LeaseNamespace { get; set; }

    /// <summary>Default: HOSTNAME (the pod name) plus a random suffix, so two processes on one host differ.</summary>
    public string? Identity { get; set; }

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    public string EffectiveLeaseNamespace =>
        LeaseNamespace is { Length: > 0 } configured ? configured
        : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } pod ? pod
        : "default";
}

/// <summary>Cross-field rules, each error naming its key.</summary>
public sealed partial class ContinuousOptionsValidator : IValidateOptions<ContinuousOptions>
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Label();

    [GeneratedRegex(@"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Dns1123Subdomain();

    public ValidateOptionsResult Validate(string? name, ContinuousOptions options)
    {
        var errors = new List<string>();
        const string prefix = ContinuousOptions.Section + ":";
        foreach (var (list, key) in new[] { (options.Namespaces, "Namespaces"), (options.WatchNamespaces, "WatchNamespaces") })
        {
            for (var index = 0; index < list.Count; index++)
            {
                if (list[index] is null || !Dns1123Label().IsMatch(list[index]))
                {
                    errors.Add($"{prefix}{key}:{index} \"{list[index]}\" is not a namespace name (DNS-1123 label).");
                }
            }
        }

        if (options.ArtifactPollMaxInterval < options.ArtifactPollInterval)
        {
            errors.Add($"{prefix}ArtifactPollMaxInterval ({options.ArtifactPollMaxInterval}) must not be shorter than {prefix}ArtifactPollInterval ({options.ArtifactPollInterval}).");
        }

        var election = options.LeaderElection;
        const string electionPrefix = prefix + "LeaderElection:";
        if (election.Enabled)
        {
            if (election.LeaseName.Length is 0 or > 253 || !Dns1123Subdomain().IsMatch(election.LeaseName))
            {
                errors.Add($"{electionPrefix}LeaseName \"{election.LeaseName}\" is not a valid object name (DNS-1123 subdomain).");
            }

            if (!Dns1123Label().IsMatch(election.EffectiveLeaseNamespace))
            {
                errors.Add($"{electionPrefix}LeaseNamespace \"{election.EffectiveLeaseNamespace}\" is not a namespace name (DNS-1123 label).");
            }

            if (election.Identity is { } identity && (identity.Length is 0 or > 253 || identity.Any(char.IsControl)))
            {
                errors.Add($"{electionPrefix}Identity must be 1 to 253 printable characters.");
            }

            // The Lease stores whole seconds (spec.leaseDurationSeconds).
            if (election.LeaseDuration < TimeSpan.FromSeconds(1) || election.LeaseDuration > TimeSpan.FromHours(1))
            {
                errors.Add($"{electionPrefix}LeaseDuration ({election.LeaseDuration}) must be between 1 second and 1 hour.");
            }

            if (election.RenewDeadline <= TimeSpan.Zero || election.RenewDeadline >= election.LeaseDuration)
            {
                errors.Add($"{electionPrefix}RenewDeadline ({election.RenewDeadline}) must be positive and shorter than LeaseDuration ({election.LeaseDuration}).");
            }

            if (election.RetryPeriod <= TimeSpan.Zero || election.RetryPeriod >= election.RenewDeadline)
            {
                errors.Add($"{electionPrefix}RetryPeriod ({election.RetryPeriod}) must be positive and shorter than RenewDeadline ({election.RenewDeadline}).");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
