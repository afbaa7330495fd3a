namespace ArgoHooks.ClusterEmulator;

/// <summary>
/// One fault to inject into matching API requests. Null filters match everything. When a rule fires it adds
/// <see cref="Latency"/>, then either resets the connection or answers one of <see cref="StatusCodes"/> (chosen
/// with the injector's seeded random) with a proper <c>Status</c> body; 429/503 carry <c>Retry-After</c>; 409 is only
/// given to update/patch/delete (elsewhere it becomes 500, since a real server never answers a read or create that way).
/// A rule with only a latency delays the request and lets it through.
/// </summary>
public sealed class FaultRule
{
    /// <summary>Audit verb: get, list, watch, create, update, patch, delete, deletecollection.</summary>
    public string? Verb { get; init; }

    /// <summary>Plural resource name, e.g. "inferenceservices"; also matches its subresources unless <see cref="Subresource"/> is set.</summary>
    public string? Resource { get; init; }

    public string? Subresource { get; init; }

    public string? Namespace { get; init; }

    /// <summary>Matches when the request path starts with this (e.g. "/apis/serving.kserve.io/").</summary>
    public string? PathPrefix { get; init; }

    /// <summary>Probability in [0, 1] that a matching request is hit.</summary>
    public double Rate { get; init; } = 1.0;

    public IReadOnlyList<int> StatusCodes { get; init; } = [];

    public int RetryAfterSeconds { get; init; } = 1;

    public bool ResetConnection { get; init; }

    public TimeSpan Latency { get; init; } = TimeSpan.Zero;

    /// <summary>Maximum number of injections of this rule; null = unlimited.</summary>
    public int? Count { get; init; }

    internal int Injected;
}

/// <summary>What the API server must do to a request a rule hit.</summary>
public sealed record FaultDecision(TimeSpan Latency, int? StatusCode, bool ResetConnection, int RetryAfterSeconds);

/// <summary>Seeded, thread-safe fault injection for the emulated API server.</summary>
public sealed class FaultInjector
{
    private readonly object _gate = new();
    private readonly List<FaultRule> _rules = [];
    private readonly Func<int> _cutWatches;
    private readonly Action _compact;
    private Random _random;
    private long _injectedTotal;

    internal FaultInjector(int seed, Func<int> cutWatches, Action compact)
    {
        _random = new Random(seed);
        _cutWatches = cutWatches;
        _compact = compact;
    }

    public FaultRule Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        if (rule.Rate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(rule), rule.Rate, "FaultRule.Rate must be within [0, 1].");
        if (rule.StatusCodes.Any(c => c is < 400 or > 599)) throw new ArgumentOutOfRangeException(nameof(rule), "FaultRule.StatusCodes must be 4xx/5xx codes.");
        lock (_gate) _rules.Add(rule);
        return rule;
    }

    public bool Remove(FaultRule rule)
    {
        lock (_gate) return _rules.Remove(rule);
    }

    public void Clear()
    {
        lock (_gate) _rules.Clear();
    }

    /// <summary>Re-seeds the random source so a scenario's faults repeat exactly.</summary>
    public void Reseed(int seed)
    {
        lock (_gate) _random = new Random(seed);
    }

    /// <summary>Total number of injected faults since start (or since <see cref="ResetCounters"/>).</summary>
    public long InjectedCount => Interlocked.Read(ref _injectedTotal);

    public int InjectedBy(FaultRule rule) => Volatile.Read(ref rule.Injected);

    public void ResetCounters() => Interlocked.Exchange(ref _injectedTotal, 0);

    /// <summary>Drops every open watch connection now (clients see the stream end abruptly). Returns how many.</summary>
    public int CutWatches() => _cutWatches();

    /// <summary>Forgets the watch history, as an etcd compaction does: resuming from an older resourceVersion gets 410.</summary>
    public void CompactHistory() => _compact();

    internal FaultDecision? Decide(string verb, string resource, string? subresource, string? ns, string path)
    {
        lock (_gate)
        {
            foreach (var rule in _rules)
            {
                if (rule.Verb is not null && !string.Equals(rule.Verb, verb, StringComparison.OrdinalIgnoreCase)) continue;
                if (rule.Resource is not null && rule.Resource != resource) continue;
                if (rule.Subresource is not null && rule.Subresource != subresource) continue;
                if (rule.Namespace is not null && rule.Namespace != ns) continue;
                if (rule.PathPrefix is not null && !path.StartsWith(rule.PathPrefix, StringComparison.Ordinal)) continue;
                if (rule.Count is { } max && rule.Injected >= max) continue;
                if (rule.Rate < 1 && _random.NextDouble() >= rule.Rate) continue;
                rule.Injected++;
                _injectedTotal++;
                int? code = rule.StatusCodes.Count == 0 ? null : rule.StatusCodes[_random.Next(rule.StatusCodes.Count)];
                // A real server answers 409 only to writes that race (update, patch, delete preconditions); a read or a
                // create never gets a "Conflict", so there the pick becomes the 500 an overloaded etcd would give.
                if (code == 409 && verb is not ("update" or "patch" or "delete" or "deletecollection")) code = 500;
                return new FaultDecision(rule.Latency, code, rule.ResetConnection, rule.RetryAfterSeconds);
            }
            return null;
        }
    }
}
