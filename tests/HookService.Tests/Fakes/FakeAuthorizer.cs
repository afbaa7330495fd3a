using System.Collections.Concurrent;
using ArgoHooks.HookService.Security;

namespace ArgoHooks.HookService.Tests.Fakes;

/// <summary>Token "good" may act in every namespace except "locked"; "limited" only in "ns"; anything else is unauthenticated.</summary>
public sealed class FakeAuthorizer : ICallerAuthorizer
{
    public const string Good = "good";
    public const string Limited = "limited";
    public const string Unavailable = "unavailable";

    public ConcurrentQueue<(string? Token, string Namespace)> Calls { get; } = new();

    public Task<CallerAuthorization> AuthorizeAsync(string? bearerToken, string @namespace, CancellationToken cancellationToken)
    {
        Calls.Enqueue((bearerToken, @namespace));
        if (bearerToken == Unavailable)
        {
            throw new CallerAuthorizationUnavailableException("The Kubernetes API server could not be asked who the caller is (TokenReview failed).", new HttpRequestException("connection refused"));
        }

        var verdict = bearerToken switch
        {
            Good when @namespace != "locked" => CallerAuthorization.Allow("system:serviceaccount:ns:good"),
            Limited when @namespace == "ns" => CallerAuthorization.Allow("system:serviceaccount:ns:limited"),
            Good or Limited => new CallerAuthorization(CallerVerdict.Forbidden, "system:serviceaccount:ns:x", "The caller may not patch InferenceServices there."),
            _ => new CallerAuthorization(CallerVerdict.Unauthenticated, null, "The token was not accepted."),
        };
        return Task.FromResult(verdict);
    }
}
