using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using ArgoHooks.HookService.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Security;

/// <summary>The API server could not be asked (unreachable, 5xx after retries, our own RBAC missing): answer 503, not 401.</summary>
public sealed class CallerAuthorizationUnavailableException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// TokenReview (audience from options) then SubjectAccessReview for <c>patch inferenceservices.serving.kserve.io</c>
/// in the namespace, with the reviewed user, groups, uid and extra. Results are cached like kube-rbac-proxy does
/// (allow ~5 min, deny ~30 s, token reviews ~2 min), keyed by a SHA-256 of the token: raw tokens are never stored.
/// </summary>
public sealed class KubernetesCallerAuthorizer(
    IKubernetes client,
    IOptions<SecurityOptions> options,
    TimeProvider timeProvider,
    ILogger<KubernetesCallerAuthorizer> logger) : ICallerAuthorizer
{
    public const string Verb = "patch";
    public const string Group = "serving.kserve.io";
    public const string Resource = "inferenceservices";

    private readonly ExpiringCache<string, Identity> identities = new(timeProvider, options.Value.MaxCacheEntries);
    private readonly ExpiringCache<(string TokenHash, string Namespace), CallerAuthorization> decisions = new(timeProvider, options.Value.MaxCacheEntries);

    private sealed record Identity(bool Authenticated, V1UserInfo? User, string? Error);

    public async Task<CallerAuthorization> AuthorizeAsync(string? bearerToken, string @namespace, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(bearerToken))
        {
            return new CallerAuthorization(CallerVerdict.Unauthenticated, null, "A bearer token (a ServiceAccount token) is required.");
        }

        var settings = options.Value;
        var tokenHash = Hash(bearerToken);
        var identity = await ReviewTokenAsync(bearerToken, tokenHash, settings, cancellationToken);
        if (!identity.Authenticated || identity.User is null)
        {
            return new CallerAuthorization(CallerVerdict.Unauthenticated, null, $"The bearer token was not accepted for audience {settings.Audience}.");
        }

        var user = identity.User.Username;
        if (settings.AllowedNamespaces.Count > 0 && !settings.AllowedNamespaces.Contains(@namespace, StringComparer.Ordinal))
        {
            return new CallerAuthorization(CallerVerdict.Forbidden, user, $"This hook service does not act in namespace {@namespace}.");
        }

        if (decisions.TryGet((tokenHash, @namespace), out var cached))
        {
            return cached;
        }

        var review = new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = identity.User.Username,
                Groups = identity.User.Groups,
                Uid = identity.User.Uid,
                Extra = identity.User.Extra,
                ResourceAttributes = new V1ResourceAttributes { NamespaceProperty = @namespace, Verb = Verb, Group = Group, Resource = Resource },
            },
        };
        V1SubjectAccessReview answer;
        try
        {
            answer = await client.AuthorizationV1.CreateSubjectAccessReviewAsync(review, cancellationToken: cancellationToken);
        }
        catch (Exception error) when (IsUnavailable(error, cancellationToken))
        {
            throw new CallerAuthorizationUnavailableException("The Kubernetes API server could not be asked whether the caller may act (SubjectAccessReview failed).", error);
        }

        var decision = answer.Status?.Allowed == true && answer.Status.Denied != true
            ? CallerAuthorization.Allow(user)
            : new CallerAuthorization(CallerVerdict.Forbidden, user, $"{user} may not patch InferenceServices in namespace {@namespace}.");
        decisions.Set((tokenHash, @namespace), decision, decision.Verdict == CallerVerdict.Allowed ? settings.AllowCacheDuration : settings.DenyCacheDuration);
        logger.LogDebug("SubjectAccessReview for {User} in {Namespace}: {Verdict}.", user, @namespace, decision.Verdict);
        return decision;
    }

    private async Task<Identity> ReviewTokenAsync(string token, string tokenHash, SecurityOptions settings, CancellationToken cancellationToken)
    {
        if (identities.TryGet(tokenHash, out var cached))
        {
            return cached;
        }

        var review = new V1TokenReview { Spec = new V1TokenReviewSpec { Token = token, Audiences = [settings.Audience] } };
        V1TokenReview answer;
        try
        {
            answer = await client.AuthenticationV1.CreateTokenReviewAsync(review, cancellationToken: cancellationToken);
        }
        catch (Exception error) when (IsUnavailable(error, cancellationToken))
        {
            throw new CallerAuthorizationUnavailableException("The Kubernetes API server could not be asked who the caller is (TokenReview failed).", error);
        }

        var status = answer.Status;
        var audienceOk = status?.Audiences is not { Count: > 0 } audiences || audiences.Contains(settings.Audience, StringComparer.Ordinal);
        var identity = new Identity(status?.Authenticated == true && audienceOk, status?.User, status?.Error);
        identities.Set(tokenHash, identity, identity.Authenticated ? settings.TokenReviewCacheDuration : settings.DenyCacheDuration);
        if (!identity.Authenticated)
        {
            logger.LogInformation("TokenReview rejected a caller token: {Error}", identity.Error ?? "not authenticated");
        }

        return identity;
    }

    private static bool IsUnavailable(Exception error, CancellationToken cancellationToken) =>
        error is HttpRequestException or IOException or k8s.Autorest.HttpOperationException or Polly.Timeout.TimeoutRejectedException
        || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}

/// <summary>A small bounded cache with per-entry lifetimes on an injected clock.</summary>
internal sealed class ExpiringCache<TKey, TValue>(TimeProvider timeProvider, int maxEntries) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, DateTimeOffset Expires)> entries = new();

    public bool TryGet(TKey key, out TValue value)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            if (entry.Expires > timeProvider.GetUtcNow())
            {
                value = entry.Value;
                return true;
            }

            entries.TryRemove(KeyValuePair.Create(key, entry));
        }

        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value, TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero)
        {
            return;
        }

        var now = timeProvider.GetUtcNow();
        if (entries.Count >= maxEntries)
        {
            foreach (var (staleKey, stale) in entries)
            {
                if (stale.Expires <= now)
                {
                    entries.TryRemove(KeyValuePair.Create(staleKey, stale));
                }
            }

            if (entries.Count >= maxEntries)
            {
                // Still full of live entries: forget them all rather than grow without bound (they are re-reviewed).
                entries.Clear();
            }
        }

        entries[key] = (value, now + lifetime);
    }

    public int Count => entries.Count;
}

/// <summary>ArgoHooks:Security:Enabled=false: everyone may do everything. For development against an emulator only.</summary>
public sealed class AllowAllCallerAuthorizer : ICallerAuthorizer
{
    public Task<CallerAuthorization> AuthorizeAsync(string? bearerToken, string @namespace, CancellationToken cancellationToken) =>
        Task.FromResult(CallerAuthorization.Allow(null));
}
