using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Security;

/// <summary>ArgoHooks:Security — who may ask the hook service to restart what.</summary>
public sealed class SecurityOptions
{
    public const string SectionName = "ArgoHooks:Security";

    /// <summary>false: every caller is allowed (development only; logged as a warning at start-up).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The audience caller tokens must be issued for (TokenReview spec.audiences).</summary>
    public string Audience { get; set; } = "argohooks";

    /// <summary>Namespaces runs may target; empty = all.</summary>
    public List<string> AllowedNamespaces { get; set; } = [];

    /// <summary>Cache lifetime of an allowed SubjectAccessReview (kube-rbac-proxy uses 5 min).</summary>
    public TimeSpan AllowCacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Cache lifetime of a denial or an unauthenticated token.</summary>
    public TimeSpan DenyCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cache lifetime of an authenticated TokenReview.</summary>
    public TimeSpan TokenReviewCacheDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Entries kept at most in each cache.</summary>
    public int MaxCacheEntries { get; set; } = 4096;
}

internal sealed class SecurityOptionsValidator : IValidateOptions<SecurityOptions>
{
    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        const string prefix = SecurityOptions.SectionName + ":";
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add($"{prefix}Audience must not be empty.");
        }

        foreach (var ns in options.AllowedNamespaces)
        {
            if (!IsDns1123Label(ns))
            {
                failures.Add($"{prefix}AllowedNamespaces contains '{ns}', which is not a namespace name (DNS-1123 label).");
            }
        }

        Duration(options.AllowCacheDuration, nameof(options.AllowCacheDuration));
        Duration(options.DenyCacheDuration, nameof(options.DenyCacheDuration));
        Duration(options.TokenReviewCacheDuration, nameof(options.TokenReviewCacheDuration));
        if (options.MaxCacheEntries is < 1 or > 1_000_000)
        {
            failures.Add($"{prefix}MaxCacheEntries must be between 1 and 1000000; got {options.MaxCacheEntries}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void Duration(TimeSpan value, string field)
        {
            // Zero disables that cache; more than an hour would keep revoked permissions alive too long.
            if (value < TimeSpan.Zero || value > TimeSpan.FromHours(1))
            {
                failures.Add($"{prefix}{field} must be between 00:00:00 and 01:00:00; got {value}.");
            }
        }
    }

    internal static bool IsDns1123Label(string value) =>
        value.Length is > 0 and <= 63
        && value.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && value[0] != '-' && value[^1] != '-';
}
