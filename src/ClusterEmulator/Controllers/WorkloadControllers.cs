using System.Text;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Controllers;

/// <summary>
/// The Deployment and ReplicaSet controllers: a pod-template change makes a new ReplicaSet (named by pod-template-hash)
/// and rolls pods over with maxSurge/maxUnavailable (default 25%/25%), keeping observedGeneration, replica counts and the
/// Progressing/Available conditions (with ProgressDeadlineExceeded) the way kube-controller-manager does.
/// </summary>
internal sealed class WorkloadControllers
{
    private const string Manager = "kube-controller-manager";
    private const string HashLabel = "pod-template-hash";
    private const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    private readonly ObjectStore _store;
    private readonly Kubelet _kubelet;
    private readonly TimeProvider _time;

    public WorkloadControllers(ObjectStore store, Kubelet kubelet, TimeProvider time)
    {
        _store = store;
        _kubelet = kubelet;
        _time = time;
    }

    public async Task<DateTimeOffset?> ReconcileAsync(TimeSpan defaultProgressDeadline, TimeSpan startupDelay, CancellationToken cancellationToken)
    {
        DateTimeOffset? next = null;
        foreach (var deployment in _store.List(ResourceTypes.Deployments, null).Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var due = ReconcileDeployment(deployment, defaultProgressDeadline);
            if (due is { } d && (next is null || d < next)) next = d;
        }
        foreach (var rs in _store.List(ResourceTypes.ReplicaSets, null).Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await ReconcileReplicaSetAsync(rs, startupDelay, cancellationToken);
        }
        return next;
    }

    internal static string TemplateHash(JsonNode? template)
    {
        // FNV-1a over a key-sorted rendering, encoded with the API machinery's "safe" alphabet (no vowels).
        var text = Canonical(template);
        uint hash = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash ^= b;
            hash *= 16777619;
        }
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var chars = new StringBuilder();
        var value = (ulong)hash;
        do
        {
            chars.Append(alphabet[(int)(value % (ulong)alphabet.Length)]);
            value /= (ulong)alphabet.Length;
        } while (value > 0);
        return chars.ToString();
    }

    internal static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"\"{p.Key}\":{Canonical(p.Value)}")) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };

    private static JsonObject TemplateWithoutHash(JsonObject rs)
    {
        var template = (JsonObject)(Json.Node(rs, "spec", "template")?.DeepClone() ?? new JsonObject());
        (Json.Node(template, "metadata", "labels") as JsonObject)?.Remove(HashLabel);
        return template;
    }

    private static bool IsOwnedBy(JsonObject obj, string? uid) =>
        uid is not null && (Json.Node(obj, "metadata", "ownerReferences") as JsonArray)?.OfType<JsonObject>().Any(o => Json.Str(o, "uid") == uid) == true;

    private static long Replicas(JsonObject obj) => Json.Long(obj, "spec", "replicas") ?? 1;

    private DateTimeOffset? ReconcileDeployment(JsonObject deployment, TimeSpan defaultProgressDeadline)
    {
        var ns = Json.Str(deployment, "metadata", "namespace")!;
        var name = Json.Str(deployment, "metadata", "name")!;
        var uid = Json.Str(deployment, "metadata", "uid");
        var now = _time.GetUtcNow();
        var desired = Replicas(deployment);
        var template = (JsonObject)(Json.Node(deployment, "spec", "template")?.DeepClone() ?? new JsonObject());
        var hash = TemplateHash(template);

        var owned = _store.List(ResourceTypes.ReplicaSets, ns).Items.Where(rs => IsOwnedBy(rs, uid)).ToList();
        var newRs = owned.FirstOrDefault(rs => TemplateHash(TemplateWithoutHash(rs)) == hash);
        var olds = owned.Where(rs => rs != newRs).OrderBy(rs => Json.Str(rs, "metadata", "creationTimestamp"), StringComparer.Ordinal).ToList();
        var revision = owned.Select(rs => long.TryParse(Json.Str(rs, "metadata", "annotations", RevisionAnnotation), out var r) ? r : 0).DefaultIfEmpty(0).Max();
        var createdNew = false;

        // Rolling update parameters (percentages round up for surge, down for unavailable, as in the real controller).
        var surge = ResolveIntOrPercent(Json.Node(deployment, "spec", "strategy", "rollingUpdate", "maxSurge"), desired, roundUp: true, "25%");
        var unavailable = ResolveIntOrPercent(Json.Node(deployment, "spec", "strategy", "rollingUpdate", "maxUnavailable"), desired, roundUp: false, "25%");
        if (surge == 0 && unavailable == 0) unavailable = 1;

        if (newRs is null)
        {
            var rsTemplate = (JsonObject)template.DeepClone();
            Json.Ensure(rsTemplate, "metadata", "labels")[HashLabel] = hash;
            var selector = (JsonObject)(Json.Node(deployment, "spec", "selector")?.DeepClone() ?? new JsonObject());
            Json.Ensure(selector, "matchLabels")[HashLabel] = hash;
            var labels = Json.StringMap(Json.Node(template, "metadata", "labels"));
            labels[HashLabel] = hash;
            var rsName = $"{name}-{hash}";
            var allTotal = owned.Sum(Replicas);
            var initial = olds.Count == 0 ? desired : Math.Min(desired, Math.Max(0, desired + surge - allTotal));
            var rs = new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "ReplicaSet",
                ["metadata"] = new JsonObject
                {
                    ["name"] = rsName,
                    ["namespace"] = ns,
                    ["labels"] = Json.ToObject(labels),
                    ["annotations"] = new JsonObject
                    {
                        [RevisionAnnotation] = (revision + 1).ToString(),
                        ["deployment.kubernetes.io/desired-replicas"] = desired.ToString(),
                        ["deployment.kubernetes.io/max-replicas"] = (desired + surge).ToString(),
                    },
                    ["ownerReferences"] = OwnerReference(deployment),
                },
                ["spec"] = new JsonObject { ["replicas"] = initial, ["selector"] = selector, ["template"] = rsTemplate },
            };
            if (_store.Get(ResourceTypes.ReplicaSets, ns, rsName) is null)
            {
                newRs = _store.Create(ResourceTypes.ReplicaSets, rs, new WriteOptions(Manager));
                createdNew = true;
            }
            else return null; // a name collision with a foreign ReplicaSet: leave it for the next pass
            revision++;
            _store.Modify(ResourceTypes.Deployments, ns, name, d =>
            {
                Json.Ensure(d, "metadata", "annotations")[RevisionAnnotation] = revision.ToString();
                return d;
            }, new WriteOptions(Manager));
        }
        else if (olds.Count > 0 && Json.Str(newRs, "metadata", "annotations", RevisionAnnotation) is { } rsRevision && long.TryParse(rsRevision, out var rr) && rr < revision)
        {
            // Rolling back to an older template makes its ReplicaSet the newest revision again.
            newRs = SetRevision(newRs, revision + 1);
            revision++;
        }

        if (desired == 0 || olds.Count == 0)
        {
            // Scaling (not a rollout): every ReplicaSet goes straight to its share.
            if (Replicas(newRs) != desired) newRs = Scale(newRs, desired);
            foreach (var old in olds.Where(o => Replicas(o) != 0)) Scale(old, 0);
        }
        else
        {
            var allTotal = olds.Sum(Replicas) + Replicas(newRs);
            var newReplicas = Replicas(newRs);
            if (newReplicas < desired)
            {
                var room = Math.Max(0, desired + surge - allTotal);
                var target = Math.Min(desired, newReplicas + room);
                if (target != newReplicas) newRs = Scale(newRs, target);
            }
            else if (newReplicas > desired) newRs = Scale(newRs, desired);

            var minAvailable = desired - unavailable;
            var allPods = olds.Sum(Replicas) + Replicas(newRs);
            var newUnavailable = Replicas(newRs) - (Json.Long(newRs, "status", "availableReplicas") ?? 0);
            var maxScaledDown = allPods - minAvailable - newUnavailable;
            if (maxScaledDown > 0)
            {
                // First drop old pods that are not available anyway, then available ones down to minAvailable.
                for (var i = 0; i < olds.Count && maxScaledDown > 0; i++)
                {
                    var unhealthy = Replicas(olds[i]) - (Json.Long(olds[i], "status", "availableReplicas") ?? 0);
                    var down = Math.Min(maxScaledDown, Math.Max(0, unhealthy));
                    if (down <= 0) continue;
                    olds[i] = Scale(olds[i], Replicas(olds[i]) - down);
                    maxScaledDown -= down;
                }
                var available = olds.Sum(o => Math.Min(Replicas(o), Json.Long(o, "status", "availableReplicas") ?? 0)) + (Json.Long(newRs, "status", "availableReplicas") ?? 0);
                var totalDown = available - minAvailable;
                for (var i = 0; i < olds.Count && totalDown > 0; i++)
                {
                    var down = Math.Min(Replicas(olds[i]), totalDown);
                    if (down <= 0) continue;
                    olds[i] = Scale(olds[i], Replicas(olds[i]) - down);
                    totalDown -= down;
                }
            }
        }

        return UpdateDeploymentStatus(deployment, newRs, olds, desired, unavailable, createdNew, defaultProgressDeadline, now);
    }

    private DateTimeOffset? UpdateDeploymentStatus(JsonObject deployment, JsonObject newRs, List<JsonObject> olds, long desired, long maxUnavailable,
        bool createdNew, TimeSpan defaultProgressDeadline, DateTimeOffset now)
    {
        var ns = Json.Str(deployment, "metadata", "namespace")!;
        var name = Json.Str(deployment, "metadata", "name")!;
        var all = olds.Append(newRs).ToList();
        var specTotal = all.Sum(Replicas);
        var statusReplicas = all.Sum(rs => Json.Long(rs, "status", "replicas") ?? 0);
        var updated = Json.Long(newRs, "status", "replicas") ?? 0;
        var ready = all.Sum(rs => Json.Long(rs, "status", "readyReplicas") ?? 0);
        var available = all.Sum(rs => Json.Long(rs, "status", "availableReplicas") ?? 0);
        var rsName = Json.Str(newRs, "metadata", "name");
        var oldStatus = deployment["status"] as JsonObject;
        var previous = oldStatus?["conditions"];
        var deadline = Json.Long(deployment, "spec", "progressDeadlineSeconds") is { } pds ? TimeSpan.FromSeconds(pds) : defaultProgressDeadline;

        var status = new JsonObject
        {
            ["observedGeneration"] = Json.Long(deployment, "metadata", "generation") ?? 1,
            ["replicas"] = statusReplicas,
            ["updatedReplicas"] = updated,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = available,
        };
        var unavailableCount = Math.Max(0, specTotal - available);
        if (unavailableCount > 0) status["unavailableReplicas"] = unavailableCount;
        if (ready == 0) status.Remove("readyReplicas");
        if (available == 0) status.Remove("availableReplicas");
        if (updated == 0) status.Remove("updatedReplicas");
        if (statusReplicas == 0) status.Remove("replicas");

        var availableCondition = available >= desired - maxUnavailable
            ? Conditions.Make(previous, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now, withUpdateTime: true)
            : Conditions.Make(previous, "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.", now, withUpdateTime: true);

        var complete = updated == desired && available == desired && statusReplicas == desired && Replicas(newRs) == desired && olds.All(o => Replicas(o) == 0);
        var progressed = oldStatus is null ||
            updated > (Json.Long(oldStatus, "updatedReplicas") ?? 0) ||
            statusReplicas < (Json.Long(oldStatus, "replicas") ?? 0) ||
            ready > (Json.Long(oldStatus, "readyReplicas") ?? 0) ||
            available > (Json.Long(oldStatus, "availableReplicas") ?? 0);
        var oldProgressing = Conditions.Find(previous, "Progressing");
        // Like syncRolloutStatus: a finished rollout is not re-estimated on resyncs (a dying pod does not reopen it).
        var alreadyComplete = !createdNew && statusReplicas == updated && Json.Str(oldProgressing, "reason") == "NewReplicaSetAvailable";
        JsonObject progressing;
        DateTimeOffset? due = null;
        if (alreadyComplete)
            progressing = (JsonObject)oldProgressing!.DeepClone();
        else if (complete)
            progressing = Conditions.Make(previous, "Progressing", "True", "NewReplicaSetAvailable", $"ReplicaSet \"{rsName}\" has successfully progressed.", now, withUpdateTime: true, touchUpdateTime: true);
        else if (createdNew)
            progressing = Conditions.Make(previous, "Progressing", "True", "NewReplicaSetCreated", $"Created new replica set \"{rsName}\"", now, withUpdateTime: true, touchUpdateTime: true);
        else if (progressed || oldProgressing is null)
            progressing = Conditions.Make(previous, "Progressing", "True", "ReplicaSetUpdated", $"ReplicaSet \"{rsName}\" is progressing.", now, withUpdateTime: true, touchUpdateTime: true);
        else if (Json.Str(oldProgressing, "reason") == "ProgressDeadlineExceeded")
            progressing = (JsonObject)oldProgressing.DeepClone();
        else
        {
            var lastUpdate = Json.ParseTime(Json.Str(oldProgressing, "lastUpdateTime")) ?? now;
            if (now >= lastUpdate + deadline)
                progressing = Conditions.Make(previous, "Progressing", "False", "ProgressDeadlineExceeded", $"ReplicaSet \"{rsName}\" has timed out progressing.", now, withUpdateTime: true, touchUpdateTime: true);
            else
                progressing = (JsonObject)oldProgressing.DeepClone();
        }
        if (!complete && !alreadyComplete && Json.Str(progressing, "status") == "True")
            due = (Json.ParseTime(Json.Str(progressing, "lastUpdateTime")) ?? now) + deadline;

        status["conditions"] = new JsonArray { availableCondition, progressing };
        if (!JsonNode.DeepEquals(status, oldStatus))
        {
            _store.Modify(ResourceTypes.Deployments, ns, name, d =>
            {
                d["status"] = status.DeepClone();
                return d;
            }, new WriteOptions(Manager, Subresource: "status"));
        }
        return due;
    }

    private JsonObject Scale(JsonObject rs, long replicas) =>
        _store.Modify(ResourceTypes.ReplicaSets, Json.Str(rs, "metadata", "namespace")!, Json.Str(rs, "metadata", "name")!, r =>
        {
            Json.Ensure(r, "spec")["replicas"] = replicas;
            return r;
        }, new WriteOptions(Manager));

    private JsonObject SetRevision(JsonObject rs, long revision) =>
        _store.Modify(ResourceTypes.ReplicaSets, Json.Str(rs, "metadata", "namespace")!, Json.Str(rs, "metadata", "name")!, r =>
        {
            Json.Ensure(r, "metadata", "annotations")[RevisionAnnotation] = revision.ToString();
            return r;
        }, new WriteOptions(Manager));

    private static long ResolveIntOrPercent(JsonNode? value, long total, bool roundUp, string fallback)
    {
        var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value is null ? fallback : null;
        if (text is null) return Json.Long(new JsonObject { ["v"] = value!.DeepClone() }, "v") ?? 0;
        if (text.EndsWith('%') && double.TryParse(text[..^1], System.Globalization.CultureInfo.InvariantCulture, out var pct))
        {
            var raw = total * pct / 100.0;
            return (long)(roundUp ? Math.Ceiling(raw) : Math.Floor(raw));
        }
        return long.TryParse(text, out var n) ? n : 0;
    }

    internal static JsonArray OwnerReference(JsonObject owner) => new()
    {
        new JsonObject
        {
            ["apiVersion"] = Json.Str(owner, "apiVersion"),
            ["kind"] = Json.Str(owner, "kind"),
            ["name"] = Json.Str(owner, "metadata", "name"),
            ["uid"] = Json.Str(owner, "metadata", "uid"),
            ["controller"] = true,
            ["blockOwnerDeletion"] = true,
        },
    };

    private async Task ReconcileReplicaSetAsync(JsonObject rs, TimeSpan startupDelay, CancellationToken cancellationToken)
    {
        var ns = Json.Str(rs, "metadata", "namespace")!;
        var name = Json.Str(rs, "metadata", "name")!;
        var uid = Json.Str(rs, "metadata", "uid");
        // Terminating pods no longer count: the ReplicaSet replaces them at once, as the real controller does.
        var pods = _store.List(ResourceTypes.Pods, ns).Items.Where(p => IsOwnedBy(p, uid) && !IsTerminating(p)).ToList();
        var desired = Replicas(rs);
        if (pods.Count < desired)
        {
            for (var i = pods.Count; i < desired; i++)
            {
                var created = await CreatePodAsync(rs, ns, name, startupDelay, cancellationToken);
                if (created is not null) pods.Add(created);
            }
        }
        else if (pods.Count > desired)
        {
            // Not-ready pods go first, then the newest, as the ReplicaSet controller ranks them.
            var victims = pods.OrderBy(IsReady).ThenByDescending(p => Json.Str(p, "metadata", "creationTimestamp"), StringComparer.Ordinal)
                .Take(pods.Count - (int)desired).ToList();
            foreach (var victim in victims)
            {
                var podName = Json.Str(victim, "metadata", "name")!;
                _store.TryDelete(ResourceTypes.Pods, ns, podName); // graceful: the kubelet finishes it
                pods.Remove(victim);
            }
        }
        var readyCount = pods.Count(IsReady);
        var status = new JsonObject
        {
            ["replicas"] = pods.Count,
            ["fullyLabeledReplicas"] = pods.Count,
            ["readyReplicas"] = readyCount,
            ["availableReplicas"] = readyCount,
            ["observedGeneration"] = Json.Long(rs, "metadata", "generation") ?? 1,
        };
        if (pods.Count == 0) status.Remove("fullyLabeledReplicas");
        if (readyCount == 0)
        {
            status.Remove("readyReplicas");
            status.Remove("availableReplicas");
        }
        if (!JsonNode.DeepEquals(status, rs["status"]))
        {
            // Null when garbage collection removed it meanwhile: then there is nothing to report.
            _store.TryModify(ResourceTypes.ReplicaSets, ns, name, r =>
            {
                r["status"] = status.DeepClone();
                return r;
            }, new WriteOptions(Manager, Subresource: "status"));
        }
    }

    internal static bool IsTerminating(JsonObject pod) => Json.Str(pod, "metadata", "deletionTimestamp") is not null;

    internal static bool IsReady(JsonObject pod) => Conditions.StatusOf(Json.Node(pod, "status", "conditions"), "Ready") == "True";

    private async Task<JsonObject?> CreatePodAsync(JsonObject rs, string ns, string rsName, TimeSpan startupDelay, CancellationToken cancellationToken)
    {
        var template = (JsonObject)(Json.Node(rs, "spec", "template")?.DeepClone() ?? new JsonObject());
        string podName;
        do podName = $"{rsName}-{ObjectStore.RandomSuffix(5)}";
        while (_store.Get(ResourceTypes.Pods, ns, podName) is not null);
        var server = await _kubelet.PrepareAsync(ns, podName, template, startupDelay, cancellationToken);
        var spec = (JsonObject)(template["spec"]?.DeepClone() ?? new JsonObject());
        spec["nodeName"] = "emulated-node";
        spec["restartPolicy"] ??= "Always";
        spec["schedulerName"] ??= "default-scheduler";
        if (Json.FindByKey(spec["containers"], "name", Kubelet.ContainerName) is { } container)
        {
            var ports = container["ports"] as JsonArray;
            if (ports is null || ports.Count == 0)
            {
                ports = [new JsonObject { ["containerPort"] = server.Port, ["protocol"] = "TCP" }];
                container["ports"] = ports;
            }
            else ((JsonObject)ports[0]!)["containerPort"] = server.Port;
        }
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = new JsonObject
            {
                ["name"] = podName,
                ["namespace"] = ns,
                ["generateName"] = rsName + "-",
                ["labels"] = Json.Node(template, "metadata", "labels")?.DeepClone() ?? new JsonObject(),
                ["annotations"] = Json.Node(template, "metadata", "annotations")?.DeepClone() ?? new JsonObject(),
                ["ownerReferences"] = OwnerReference(rs),
            },
            ["spec"] = spec,
            ["status"] = new JsonObject { ["phase"] = "Pending" },
        };
        try
        {
            var created = _store.Create(ResourceTypes.Pods, pod, new WriteOptions(Manager));
            return created;
        }
        catch (Api.ApiException e) when (e.Code is 404 or 409)
        {
            await _kubelet.ForgetAsync(ns, podName);
            return null;
        }
    }
}
