using System.Collections.Concurrent;

namespace ArgoHooks.ClusterEmulator;

/// <summary>Who a bearer token authenticates as.</summary>
public sealed record Identity(string Username, string Uid, IReadOnlyList<string> Groups, IReadOnlyList<string> Audiences);

/// <summary>
/// An RBAC-like allow rule. <see cref="Subject"/> is a username or "group:&lt;name&gt;". "*" matches any verb, API group
/// or resource; a null <see cref="Namespace"/> means every namespace (and cluster scope).
/// </summary>
public sealed record AccessRule(string Subject, string Verb, string ApiGroup, string Resource, string? Namespace = null);

/// <summary>Tokens, identities and allow rules behind TokenReview, SubjectAccessReview and (optionally) API request authentication.</summary>
public sealed class AccessTable
{
    /// <summary>The audience of tokens meant for the API server itself (TokenReview without audiences checks this one).</summary>
    public const string ApiServerAudience = "https://kubernetes.default.svc";

    public const string MastersGroup = "system:masters";

    private readonly ConcurrentDictionary<string, Identity> _tokens = new(StringComparer.Ordinal);
    private readonly List<AccessRule> _rules = [];
    private readonly object _gate = new();

    /// <summary>Registers a token. Audiences default to the API server audience only.</summary>
    public Identity AddToken(string token, string username, IEnumerable<string>? groups = null, IEnumerable<string>? audiences = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(username);
        var groupList = (groups ?? []).ToList();
        if (!groupList.Contains("system:authenticated")) groupList.Add("system:authenticated");
        var identity = new Identity(username, Guid.NewGuid().ToString(), groupList, (audiences ?? [ApiServerAudience]).ToList());
        _tokens[token] = identity;
        return identity;
    }

    /// <summary>A ServiceAccount token: user "system:serviceaccount:NS:NAME" in the service-account groups.</summary>
    public Identity AddServiceAccountToken(string token, string @namespace, string serviceAccount, IEnumerable<string>? audiences = null) =>
        AddToken(token, $"system:serviceaccount:{@namespace}:{serviceAccount}",
            ["system:serviceaccounts", $"system:serviceaccounts:{@namespace}"], audiences);

    public bool RemoveToken(string token) => _tokens.TryRemove(token, out _);

    public void Allow(AccessRule rule)
    {
        lock (_gate) _rules.Add(rule);
    }

    public void Allow(string subject, string verb, string apiGroup, string resource, string? @namespace = null) =>
        Allow(new AccessRule(subject, verb, apiGroup, resource, @namespace));

    public void ClearRules()
    {
        lock (_gate) _rules.Clear();
    }

    /// <summary>
    /// TokenReview semantics: with requested audiences the token must carry one of them (the answer lists the
    /// intersection); without, it must be an API server token.
    /// </summary>
    public (Identity? Identity, IReadOnlyList<string> Audiences) Authenticate(string? token, IReadOnlyList<string>? requestedAudiences)
    {
        if (string.IsNullOrEmpty(token) || !_tokens.TryGetValue(token, out var identity)) return (null, []);
        var wanted = requestedAudiences is { Count: > 0 } ? requestedAudiences : [ApiServerAudience];
        var common = identity.Audiences.Intersect(wanted, StringComparer.Ordinal).ToList();
        return common.Count == 0 ? (null, []) : (identity, common);
    }

    public bool IsAllowed(string user, IEnumerable<string> groups, string verb, string apiGroup, string resource, string? @namespace)
    {
        var groupSet = groups.ToHashSet(StringComparer.Ordinal);
        if (groupSet.Contains(MastersGroup)) return true;
        lock (_gate)
        {
            return _rules.Any(r =>
                (r.Subject == user || (r.Subject.StartsWith("group:", StringComparison.Ordinal) && groupSet.Contains(r.Subject[6..]))) &&
                (r.Verb == "*" || r.Verb == verb) &&
                (r.ApiGroup == "*" || r.ApiGroup == apiGroup) &&
                (r.Resource == "*" || r.Resource == resource) &&
                (r.Namespace is null || r.Namespace == @namespace));
        }
    }
}
