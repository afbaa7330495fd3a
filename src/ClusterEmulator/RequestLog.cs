using System.Collections.Concurrent;

namespace ArgoHooks.ClusterEmulator;

/// <summary>What one counter counts: audit verb, resource (with "/subresource" when there is one) and namespace (null = cluster scope).</summary>
public readonly record struct RequestKey(string Verb, string Resource, string? Namespace);

/// <summary>Counters of every API request by verb, resource and namespace (and of injected faults), for tests and benchmarks.</summary>
public sealed class RequestLog
{
    private readonly ConcurrentDictionary<RequestKey, long> _counts = new();
    private readonly ConcurrentDictionary<RequestKey, long> _faults = new();

    internal void Record(RequestKey key) => _counts.AddOrUpdate(key, 1, (_, n) => n + 1);

    internal void RecordFault(RequestKey key) => _faults.AddOrUpdate(key, 1, (_, n) => n + 1);

    public IReadOnlyDictionary<RequestKey, long> Snapshot() => new Dictionary<RequestKey, long>(_counts);

    public IReadOnlyDictionary<RequestKey, long> FaultSnapshot() => new Dictionary<RequestKey, long>(_faults);

    /// <summary>Number of requests with this verb on this resource (e.g. "inferenceservices" or "inferenceservices/status"), in one namespace or all.</summary>
    public long Count(string verb, string resource, string? @namespace = null) =>
        _counts.Where(p => p.Key.Verb == verb && p.Key.Resource == resource && (@namespace is null || p.Key.Namespace == @namespace)).Sum(p => p.Value);

    /// <summary>Requests with this verb on any resource.</summary>
    public long Count(string verb) => _counts.Where(p => p.Key.Verb == verb).Sum(p => p.Value);

    public long Total => _counts.Values.Sum();

    public long FaultCount(string? verb = null, string? resource = null) =>
        _faults.Where(p => (verb is null || p.Key.Verb == verb) && (resource is null || p.Key.Resource == resource)).Sum(p => p.Value);

    public void Reset()
    {
        _counts.Clear();
        _faults.Clear();
    }
}
