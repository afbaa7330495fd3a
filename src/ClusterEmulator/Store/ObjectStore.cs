using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ArgoHooks.ClusterEmulator.Api;

namespace ArgoHooks.ClusterEmulator.Store;

/// <summary>How a write is recorded: field manager (managedFields), dry run, and whether it targets the status subresource.</summary>
public sealed record WriteOptions(string? FieldManager = null, bool DryRun = false, string? Subresource = null, string Operation = "Update");

/// <summary>One committed change, kept in the bounded watch history.</summary>
public sealed record StoredEvent(long ResourceVersion, ResourceType Type, string Namespace, string EventType, JsonObject? OldObject, JsonObject NewObject);

/// <summary>What a watcher receives: ADDED/MODIFIED/DELETED/BOOKMARK with the object as it is after the change.</summary>
public readonly record struct WatchItem(string Type, JsonObject Object);

/// <summary>An open watch. Items arrive on <see cref="Items"/>; <see cref="CutToken"/> fires when the emulator drops every watch.</summary>
public sealed class WatchSubscription : IDisposable
{
    private readonly ObjectStore _store;
    private readonly CancellationTokenSource _cut = new();

    internal WatchSubscription(ObjectStore store, ResourceType type, string? ns, LabelSelector labels, FieldSelector fields)
    {
        _store = store;
        Type = type;
        Namespace = ns;
        Labels = labels;
        Fields = fields;
    }

    public ResourceType Type { get; }
    public string? Namespace { get; }
    internal LabelSelector Labels { get; }
    internal FieldSelector Fields { get; }
    internal Channel<WatchItem> Channel { get; } = System.Threading.Channels.Channel.CreateUnbounded<WatchItem>(new UnboundedChannelOptions { SingleReader = true });
    public ChannelReader<WatchItem> Items => Channel.Reader;
    public CancellationToken CutToken => _cut.Token;

    internal bool Matches(string ns, JsonObject? obj) =>
        obj is not null && (Namespace is null || Namespace == ns) && Labels.Matches(obj) && Fields.Matches(obj);

    internal void Cut() => _cut.Cancel();

    public void Dispose()
    {
        // _cut is deliberately not disposed: it has no timer, and CutWatches may still cancel it after this.
        _store.Unsubscribe(this);
        Channel.Writer.TryComplete();
    }
}

/// <summary>
/// All stored objects, keyed by resource type, namespace and name, with one global monotonically increasing
/// resourceVersion, a bounded history for watch resumption, and live watch subscriptions.
/// </summary>
public sealed class ObjectStore
{
    private static readonly HashSet<ResourceType> TypesWithGeneration =
        [ResourceTypes.Pods, ResourceTypes.Deployments, ResourceTypes.ReplicaSets, ResourceTypes.InferenceServices, ResourceTypes.KnativeRevisions, ResourceTypes.Namespaces];

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _historyLimit;
    private readonly Dictionary<ResourceType, SortedDictionary<string, JsonObject>> _objects = [];
    private readonly Queue<StoredEvent> _history = new();
    private readonly List<WatchSubscription> _subscriptions = [];
    private readonly Dictionary<string, DateTimeOffset> _podRemovalDue = new(StringComparer.Ordinal);
    private long _resourceVersion;
    private long _historyFloor; // every event with a resourceVersion above this is still in _history

    public ObjectStore(TimeProvider time, int historyLimit)
    {
        _time = time;
        _historyLimit = Math.Max(1, historyLimit);
        foreach (var t in ResourceTypes.All) _objects[t] = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
    }

    /// <summary>Raised (under the store lock: keep handlers tiny) after every committed change.</summary>
    public event Action<StoredEvent>? Changed;

    /// <summary>Optional admission checks run before create/update is committed (throw <see cref="ApiException"/>).</summary>
    public Action<ResourceType, JsonObject, JsonObject?>? Validator { get; set; }

    public long CurrentResourceVersion
    {
        get { lock (_gate) return _resourceVersion; }
    }

    private static string Key(string ns, string name) => ns.Length == 0 ? name : $"{ns}/{name}";

    public JsonObject? Get(ResourceType type, string ns, string name)
    {
        lock (_gate) return _objects[type].TryGetValue(Key(ns, name), out var o) ? Json.Clone(o) : null;
    }

    public (List<JsonObject> Items, long ResourceVersion) List(ResourceType type, string? ns, LabelSelector? labels = null, FieldSelector? fields = null)
    {
        lock (_gate)
        {
            var items = new List<JsonObject>();
            foreach (var o in _objects[type].Values)
            {
                if (ns is not null && Json.Str(o, "metadata", "namespace") != ns) continue;
                if (labels is not null && !labels.Matches(o)) continue;
                if (fields is not null && !fields.Matches(o)) continue;
                items.Add(Json.Clone(o));
            }
            return (items, _resourceVersion);
        }
    }

    public JsonObject Create(ResourceType type, JsonObject input, WriteOptions? options = null)
    {
        options ??= new WriteOptions();
        var obj = Json.Clone(input);
        var meta = Json.Metadata(obj);
        var ns = type.Namespaced ? Json.Str(meta, "namespace") ?? "" : "";
        lock (_gate)
        {
            var name = Json.Str(meta, "name");
            if (string.IsNullOrEmpty(name) && Json.Str(meta, "generateName") is { Length: > 0 } prefix)
            {
                do name = prefix + RandomSuffix(5);
                while (_objects[type].ContainsKey(Key(ns, name)));
                meta["name"] = name;
            }
            if (type.Namespaced)
            {
                if (ns.Length == 0) throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
                if (!_objects[ResourceTypes.Namespaces].ContainsKey(ns))
                    throw ApiException.NotFound(ResourceTypes.Namespaces, ns);
            }
            else meta.Remove("namespace");
            obj["apiVersion"] = type.ApiVersion;
            obj["kind"] = type.Kind;
            Validator?.Invoke(type, obj, null);
            name = Json.Str(meta, "name")!;
            if (_objects[type].ContainsKey(Key(ns, name))) throw ApiException.AlreadyExists(type, name);

            var now = _time.GetUtcNow();
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = Json.Timestamp(now);
            meta.Remove("deletionTimestamp");
            if (TypesWithGeneration.Contains(type)) meta["generation"] = 1;
            else meta.Remove("generation");
            if (type.HasStatusSubresource && type != ResourceTypes.Namespaces) obj.Remove("status");
            if (type == ResourceTypes.Namespaces) obj["status"] = new JsonObject { ["phase"] = "Active" };
            if (type == ResourceTypes.Pods) obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "BestEffort" };
            RecordManager(meta, type, options, now);
            if (options.DryRun)
            {
                meta["resourceVersion"] = _resourceVersion.ToString();
                return obj;
            }
            Commit(type, ns, name, null, obj, "ADDED");
            return Json.Clone(obj);
        }
    }

    /// <summary>PUT: replaces the object (or its status) with <paramref name="input"/>, honouring a resourceVersion precondition.</summary>
    public JsonObject Replace(ResourceType type, string ns, string name, JsonObject input, WriteOptions? options = null)
    {
        options ??= new WriteOptions();
        var givenRv = Json.Str(input, "metadata", "resourceVersion");
        if (string.IsNullOrEmpty(givenRv) && !type.AllowUnconditionalUpdate)
        {
            throw ApiException.Invalid(type, name, [("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0x0: must be specified for an update")]);
        }
        return Modify(type, ns, name, _ => Json.Clone(input), options);
    }

    /// <summary>
    /// Read-modify-write under the store lock: <paramref name="mutate"/> gets a copy of the current object and returns the
    /// desired one. A resourceVersion left in the result that differs from the current one is a 409 Conflict (as with a
    /// resourceVersion in a patch body). An unchanged result is not a write (no new resourceVersion, no watch event).
    /// </summary>
    public JsonObject Modify(ResourceType type, string ns, string name, Func<JsonObject, JsonObject> mutate, WriteOptions? options = null)
    {
        options ??= new WriteOptions();
        if (!type.Namespaced) ns = "";
        lock (_gate)
        {
            if (!_objects[type].TryGetValue(Key(ns, name), out var current)) throw ApiException.NotFound(type, name);
            var desired = mutate(Json.Clone(current));
            var desiredMeta = Json.Metadata(desired);
            var currentRv = Json.Str(current, "metadata", "resourceVersion");
            var desiredRv = Json.Str(desiredMeta, "resourceVersion");
            if (!string.IsNullOrEmpty(desiredRv) && desiredRv != currentRv) throw ApiException.Conflict(type, name);
            if (Json.Str(desiredMeta, "name") is { } n && n != name)
                throw ApiException.BadRequest($"the name of the object ({n}) does not match the name on the URL ({name})");
            if (type.Namespaced && Json.Str(desiredMeta, "namespace") is { Length: > 0 } dns && dns != ns)
                throw ApiException.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            if (Json.Str(desired, "apiVersion") is { } av && av != type.ApiVersion || Json.Str(desired, "kind") is { } k && k != type.Kind)
                throw ApiException.BadRequest($"the API version or kind in the request body does not match {type.ApiVersion}/{type.Kind}");

            JsonObject result;
            if (options.Subresource == "status")
            {
                result = Json.Clone(current);
                if (desired["status"] is { } status) result["status"] = status.DeepClone();
                else result.Remove("status");
            }
            else
            {
                result = Json.Clone(desired);
                if (type.HasStatusSubresource)
                {
                    if (current["status"] is { } keep) result["status"] = keep.DeepClone();
                    else result.Remove("status");
                }
                var meta = Json.Metadata(result);
                var curMeta = (JsonObject)current["metadata"]!;
                foreach (var immutable in new[] { "name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "resourceVersion" })
                {
                    if (curMeta[immutable] is { } v) meta[immutable] = v.DeepClone();
                    else meta.Remove(immutable);
                }
            }
            result["apiVersion"] = type.ApiVersion;
            result["kind"] = type.Kind;
            var resultMeta = Json.Metadata(result);
            resultMeta["resourceVersion"] = currentRv;

            if (JsonNode.DeepEquals(result, current)) return Json.Clone(current);

            Validator?.Invoke(type, result, current);
            if (TypesWithGeneration.Contains(type) && SpecChanged(current, result))
                resultMeta["generation"] = (Json.Long(current, "metadata", "generation") ?? 0) + 1;
            RecordManager(resultMeta, type, options, _time.GetUtcNow());
            if (options.DryRun) return result;
            Commit(type, ns, name, current, result, "MODIFIED");
            return Json.Clone(result);
        }
    }

    /// <summary>
    /// Deletes an object and garbage-collects its dependents (by ownerReferences uid). Pods are deleted gracefully when
    /// <paramref name="podGracePeriod"/> is positive: they get <c>deletionTimestamp</c> (now + grace) and stay visible as
    /// Terminating until the kubelet removes them; a second delete with a zero grace period removes them at once.
    /// </summary>
    public JsonObject Delete(ResourceType type, string ns, string name, string? preconditionUid = null, string? preconditionRv = null, bool dryRun = false,
        TimeSpan? podGracePeriod = null)
    {
        if (!type.Namespaced) ns = "";
        lock (_gate)
        {
            if (!_objects[type].TryGetValue(Key(ns, name), out var current)) throw ApiException.NotFound(type, name);
            if (preconditionUid is not null && preconditionUid != Json.Str(current, "metadata", "uid"))
                throw ApiException.PreconditionConflict(type, name, $"Precondition failed: UID in precondition: {preconditionUid}, UID in object meta: {Json.Str(current, "metadata", "uid")}");
            if (preconditionRv is not null && preconditionRv != Json.Str(current, "metadata", "resourceVersion"))
                throw ApiException.PreconditionConflict(type, name, $"Precondition failed: ResourceVersion in precondition: {preconditionRv}, ResourceVersion in object meta: {Json.Str(current, "metadata", "resourceVersion")}");
            if (dryRun) return Json.Clone(current);
            var grace = podGracePeriod ?? DefaultPodGracePeriod;
            if (type == ResourceTypes.Pods && grace > TimeSpan.Zero) return Json.Clone(MarkTerminatingLocked(ns, name, current, grace));
            DeleteLocked(type, ns, name, current);
            return Json.Clone(current);
        }
    }

    /// <summary>Like <see cref="Modify"/>, but null when the object does not exist (for controllers racing with deletions).</summary>
    public JsonObject? TryModify(ResourceType type, string ns, string name, Func<JsonObject, JsonObject> mutate, WriteOptions? options = null)
    {
        lock (_gate)
        {
            if (!_objects[type].ContainsKey(Key(type.Namespaced ? ns : "", name))) return null;
            return Modify(type, ns, name, mutate, options);
        }
    }

    /// <summary>Like <see cref="Delete"/>, but false when the object does not exist.</summary>
    public bool TryDelete(ResourceType type, string ns, string name, TimeSpan? podGracePeriod = null)
    {
        lock (_gate)
        {
            if (!_objects[type].ContainsKey(Key(type.Namespaced ? ns : "", name))) return false;
            Delete(type, ns, name, podGracePeriod: podGracePeriod);
            return true;
        }
    }

    /// <summary>Grace period of pod deletions that do not say otherwise (EmulatorOptions.PodTerminationGracePeriod).</summary>
    public TimeSpan DefaultPodGracePeriod { get; set; } = TimeSpan.Zero;

    private JsonObject MarkTerminatingLocked(string ns, string name, JsonObject current, TimeSpan grace)
    {
        if (Json.Str(current, "metadata", "deletionTimestamp") is not null) return current;
        var terminating = Json.Clone(current);
        var meta = Json.Metadata(terminating);
        var due = _time.GetUtcNow() + grace;
        _podRemovalDue[Key(ns, name)] = due;
        meta["deletionTimestamp"] = Json.Timestamp(due);
        meta["deletionGracePeriodSeconds"] = (long)Math.Ceiling(grace.TotalSeconds);
        Commit(ResourceTypes.Pods, ns, name, current, terminating, "MODIFIED");
        return terminating;
    }

    /// <summary>When a Terminating pod is due to disappear (the precise moment behind its second-precision deletionTimestamp).</summary>
    public DateTimeOffset? PodRemovalDue(string ns, string name)
    {
        lock (_gate) return _podRemovalDue.TryGetValue(Key(ns, name), out var due) ? due : null;
    }

    private void DeleteLocked(ResourceType type, string ns, string name, JsonObject current)
    {
        if (type == ResourceTypes.Pods) _podRemovalDue.Remove(Key(ns, name));
        var deleted = Json.Clone(current);
        Json.Metadata(deleted)["deletionTimestamp"] ??= Json.Timestamp(_time.GetUtcNow());
        _objects[type].Remove(Key(ns, name));
        _resourceVersion++;
        Json.Metadata(deleted)["resourceVersion"] = _resourceVersion.ToString();
        Record(new StoredEvent(_resourceVersion, type, ns, "DELETED", current, deleted));

        if (type == ResourceTypes.Namespaces)
        {
            // The namespace controller's job, done at once: everything in the namespace goes with it.
            foreach (var (contentType, bucket) in _objects.Where(p => p.Key.Namespaced))
            {
                foreach (var (key, contained) in bucket.ToList())
                {
                    if (Json.Str(contained, "metadata", "namespace") != name || !bucket.ContainsKey(key)) continue;
                    DeleteLocked(contentType, name, Json.Str(contained, "metadata", "name")!, contained);
                }
            }
        }

        var uid = Json.Str(current, "metadata", "uid");
        if (uid is null) return;
        foreach (var (depType, bucket) in _objects)
        {
            foreach (var (key, dependent) in bucket.ToList())
            {
                var owners = Json.Node(dependent, "metadata", "ownerReferences") as JsonArray;
                if (owners is null || !owners.OfType<JsonObject>().Any(o => Json.Str(o, "uid") == uid)) continue;
                if (!bucket.TryGetValue(key, out var stillThere)) continue;
                var depNs = Json.Str(stillThere, "metadata", "namespace") ?? "";
                var depName = Json.Str(stillThere, "metadata", "name")!;
                if (depType == ResourceTypes.Pods && DefaultPodGracePeriod > TimeSpan.Zero) MarkTerminatingLocked(depNs, depName, stillThere, DefaultPodGracePeriod);
                else DeleteLocked(depType, depNs, depName, stillThere);
            }
        }
    }

    /// <summary>
    /// Opens a watch. <paramref name="sinceResourceVersion"/> null means "current state first" (synthetic ADDED events);
    /// a number resumes after it from the bounded history, or fails with 410 Expired when that history is gone.
    /// </summary>
    public WatchSubscription Watch(ResourceType type, string? ns, LabelSelector labels, FieldSelector fields, long? sinceResourceVersion)
    {
        lock (_gate)
        {
            var sub = new WatchSubscription(this, type, ns, labels, fields);
            if (sinceResourceVersion is null)
            {
                foreach (var o in _objects[type].Values)
                {
                    if (sub.Matches(Json.Str(o, "metadata", "namespace") ?? "", o)) sub.Channel.Writer.TryWrite(new WatchItem("ADDED", Json.Clone(o)));
                }
            }
            else
            {
                if (sinceResourceVersion < _historyFloor)
                    throw ApiException.Gone($"too old resource version: {sinceResourceVersion} ({_historyFloor + 1})");
                foreach (var e in _history)
                {
                    if (e.ResourceVersion > sinceResourceVersion && e.Type == type) Deliver(sub, e);
                }
            }
            _subscriptions.Add(sub);
            return sub;
        }
    }

    /// <summary>Queues a BOOKMARK carrying the current resourceVersion behind every event already queued for this watch.</summary>
    public void Bookmark(WatchSubscription sub)
    {
        lock (_gate)
        {
            var obj = new JsonObject
            {
                ["kind"] = sub.Type.Kind,
                ["apiVersion"] = sub.Type.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _resourceVersion.ToString() },
            };
            sub.Channel.Writer.TryWrite(new WatchItem("BOOKMARK", obj));
        }
    }

    internal void Unsubscribe(WatchSubscription sub)
    {
        lock (_gate) _subscriptions.Remove(sub);
    }

    /// <summary>Drops the watch history: any resume from an older resourceVersion now gets 410 Expired.</summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            _history.Clear();
            _historyFloor = _resourceVersion;
        }
    }

    /// <summary>Drops every open watch connection.</summary>
    public int CutWatches()
    {
        List<WatchSubscription> subs;
        lock (_gate) subs = [.. _subscriptions];
        foreach (var s in subs) s.Cut();
        return subs.Count;
    }

    public int OpenWatchCount
    {
        get { lock (_gate) return _subscriptions.Count; }
    }

    private void Commit(ResourceType type, string ns, string name, JsonObject? old, JsonObject obj, string eventType)
    {
        _resourceVersion++;
        Json.Metadata(obj)["resourceVersion"] = _resourceVersion.ToString();
        var stored = Json.Clone(obj);
        _objects[type][Key(ns, name)] = stored;
        Record(new StoredEvent(_resourceVersion, type, ns, eventType, old, Json.Clone(stored)));
    }

    private void Record(StoredEvent e)
    {
        _history.Enqueue(e);
        while (_history.Count > _historyLimit) _historyFloor = _history.Dequeue().ResourceVersion;
        foreach (var sub in _subscriptions)
        {
            if (sub.Type == e.Type) Deliver(sub, e);
        }
        Changed?.Invoke(e);
    }

    private static void Deliver(WatchSubscription sub, StoredEvent e)
    {
        // A change that moves an object into or out of a filtered watch shows up as ADDED / DELETED, as on a real server.
        var newMatches = sub.Matches(e.Namespace, e.NewObject);
        if (e.EventType == "DELETED")
        {
            if (newMatches) sub.Channel.Writer.TryWrite(new WatchItem("DELETED", e.NewObject));
            return;
        }
        var oldMatches = sub.Matches(e.Namespace, e.OldObject);
        var type = (oldMatches, newMatches) switch
        {
            (true, true) => "MODIFIED",
            (false, true) => "ADDED",
            (true, false) => "DELETED",
            _ => null,
        };
        if (type is not null) sub.Channel.Writer.TryWrite(new WatchItem(type, e.NewObject));
    }

    private static bool SpecChanged(JsonObject before, JsonObject after)
    {
        var keys = before.Select(p => p.Key).Concat(after.Select(p => p.Key)).Distinct()
            .Where(k => k is not ("metadata" or "status" or "apiVersion" or "kind"));
        return keys.Any(k => !JsonNode.DeepEquals(before[k], after[k]));
    }

    private static void RecordManager(JsonObject meta, ResourceType type, WriteOptions options, DateTimeOffset now)
    {
        var manager = options.FieldManager;
        if (string.IsNullOrEmpty(manager)) return;
        var fields = meta["managedFields"] as JsonArray ?? [];
        var existing = fields.OfType<JsonObject>().FirstOrDefault(f =>
            Json.Str(f, "manager") == manager && Json.Str(f, "operation") == options.Operation && Json.Str(f, "subresource") == options.Subresource);
        if (existing is null)
        {
            existing = new JsonObject { ["manager"] = manager, ["operation"] = options.Operation, ["apiVersion"] = type.ApiVersion };
            fields.Add(existing);
        }
        existing["time"] = Json.Timestamp(now);
        existing["fieldsType"] = "FieldsV1";
        existing["fieldsV1"] ??= new JsonObject();
        if (options.Subresource is not null) existing["subresource"] = options.Subresource;
        meta["managedFields"] = fields;
    }

    private const string SuffixAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    public static string RandomSuffix(int length)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++) chars[i] = SuffixAlphabet[RandomNumberGenerator.GetInt32(SuffixAlphabet.Length)];
        return new string(chars);
    }
}
