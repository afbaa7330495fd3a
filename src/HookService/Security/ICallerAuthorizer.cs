namespace ArgoHooks.HookService.Security;

/// <summary>
/// Decides whether the caller behind a bearer token may act on InferenceServices in a namespace:
/// TokenReview for who it is, SubjectAccessReview for <c>patch inferenceservices.serving.kserve.io</c>.
/// The run endpoints call it before they touch anything, so a rejected caller changes nothing.
/// </summary>
public interface ICallerAuthorizer
{
    /// <exception cref="CallerAuthorizationUnavailableException">The API server could not be asked (unreachable, 5xx after
    /// retries, the service's own RBAC missing): answer 503 problem+json, not 401/403.</exception>
    Task<CallerAuthorization> AuthorizeAsync(string? bearerToken, string @namespace, CancellationToken cancellationToken);
}

public enum CallerVerdict
{
    /// <summary>Authenticated and allowed: go on.</summary>
    Allowed,
    /// <summary>No token, or a token the API server does not accept: 401.</summary>
    Unauthenticated,
    /// <summary>A valid identity that may not patch InferenceServices there: 403.</summary>
    Forbidden,
}

/// <param name="User">The authenticated user name (e.g. system:serviceaccount:ns:sa), when known.</param>
/// <param name="Reason">One sentence for the problem+json detail; never says whether a resource exists.</param>
public sealed record CallerAuthorization(CallerVerdict Verdict, string? User, string Reason)
{
    public static CallerAuthorization Allow(string? user) => new(CallerVerdict.Allowed, user, "allowed");
}
