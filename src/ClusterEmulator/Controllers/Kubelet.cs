using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Controllers;

/// <summary>
/// The node: runs one <see cref="SimulatedModelServer"/> per predictor pod and mirrors its state into the pod status
/// (phase, Ready/ContainersReady, containerStatuses with restartCount, running.startedAt and the crash message).
/// </summary>
internal sealed class Kubelet : IAsyncDisposable
{
    public const string ContainerName = "kserve-container";
    public const string StorageUriAnnotation = "internal.serving.kserve.io/storage-initializer-sourceuri";

    private readonly ObjectStore _store;
    private readonly ModelStorage _storage;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, SimulatedModelServer> _servers = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public Kubelet(ObjectStore store, ModelStorage storage, TimeProvider time)
    {
        _store = store;
        _storage = storage;
        _time = time;
    }

    public IReadOnlyList<SimulatedModelServer> Servers
    {
        get { lock (_gate) return [.. _servers.Values.OrderBy(s => s.CreatedAt).ThenBy(s => s.PodName, StringComparer.Ordinal)]; }
    }

    public SimulatedModelServer? Find(string ns, string podName)
    {
        lock (_gate) return _servers.GetValueOrDefault($"{ns}/{podName}");
    }

    /// <summary>Starts the model server for a pod about to be created, so its real port can go into the pod spec.</summary>
    public async Task<SimulatedModelServer> PrepareAsync(string ns, string podName, JsonObject podTemplate, TimeSpan startupDelay, CancellationToken cancellationToken)
    {
        var annotations = Json.StringMap(Json.Node(podTemplate, "metadata", "annotations"));
        var storageUri = annotations.GetValueOrDefault(StorageUriAnnotation);
        var modelName = ModelNameFromArgs(Json.FindByKey(Json.Node(podTemplate, "spec", "containers"), "name", ContainerName))
            ?? Json.StringMap(Json.Node(podTemplate, "metadata", "labels")).GetValueOrDefault("serving.kserve.io/inferenceservice") ?? podName;
        var server = await SimulatedModelServer.StartAsync(ns, podName, modelName, _storage.Resolve(storageUri), storageUri, _time.GetUtcNow(), startupDelay, cancellationToken);
        lock (_gate) _servers[$"{ns}/{podName}"] = server;
        return server;
    }

    /// <summary>The model name the server registers: <c>--model_name=X</c> or <c>--model_name X</c> in the container args.</summary>
    private static string? ModelNameFromArgs(JsonObject? container)
    {
        var args = (container?["args"] as JsonArray)?.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").ToList() ?? [];
        string? name = null;
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i].StartsWith("--model_name=", StringComparison.Ordinal)) name = args[i]["--model_name=".Length..];
            else if (args[i] == "--model_name" && i + 1 < args.Count) name = args[i + 1];
        }
        return string.IsNullOrEmpty(name) ? null : name;
    }

    public async Task ForgetAsync(string ns, string podName)
    {
        SimulatedModelServer? server;
        lock (_gate)
        {
            if (_servers.Remove($"{ns}/{podName}", out server) is false) return;
        }
        await server!.DisposeAsync();
    }

    /// <summary>Advances every server and writes changed pod statuses; returns the next moment something is due.</summary>
    public async Task<DateTimeOffset?> ReconcileAsync(TimeSpan crashLoopBackOff, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        DateTimeOffset? next = null;

        // Terminating pods: the container got SIGTERM (server stops at once, pod not Ready) and the pod goes when due.
        foreach (var pod in _store.List(ResourceTypes.Pods, null).Items.Where(WorkloadControllers.IsTerminating))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var ns = Json.Str(pod, "metadata", "namespace")!;
            var name = Json.Str(pod, "metadata", "name")!;
            await ForgetAsync(ns, name);
            var due = _store.PodRemovalDue(ns, name) ?? Json.ParseTime(Json.Str(pod, "metadata", "deletionTimestamp")) ?? now;
            if (now >= due)
            {
                _store.TryDelete(ResourceTypes.Pods, ns, name, podGracePeriod: TimeSpan.Zero);
                continue;
            }
            next = Earliest(next, due);
            var status = TerminatingStatus(pod, now);
            if (!JsonNode.DeepEquals(status, pod["status"]))
            {
                _store.TryModify(ResourceTypes.Pods, ns, name, p =>
                {
                    p["status"] = status.DeepClone();
                    return p;
                }, new WriteOptions("kubelet", Subresource: "status"));
            }
        }

        List<KeyValuePair<string, SimulatedModelServer>> servers;
        lock (_gate) servers = [.. _servers];
        foreach (var (_, server) in servers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var pod = _store.Get(ResourceTypes.Pods, server.Namespace, server.PodName);
            if (pod is null || WorkloadControllers.IsTerminating(pod))
            {
                // Deleting a pod stops its server.
                await ForgetAsync(server.Namespace, server.PodName);
                continue;
            }
            server.Tick(now, crashLoopBackOff);
            if (server.State is ModelServerState.Starting or ModelServerState.CrashLoopBackOff)
                next = Earliest(next, server.NextTransitionAt);
            var status = BuildStatus(pod, server, now);
            if (!JsonNode.DeepEquals(status, pod["status"]))
            {
                var written = _store.TryModify(ResourceTypes.Pods, server.Namespace, server.PodName, p =>
                {
                    p["status"] = status.DeepClone();
                    return p;
                }, new WriteOptions("kubelet", Subresource: "status"));
                if (written is null) await ForgetAsync(server.Namespace, server.PodName);
            }
        }
        return next;
    }

    private static JsonObject TerminatingStatus(JsonObject pod, DateTimeOffset now)
    {
        var status = (JsonObject)(pod["status"]?.DeepClone() ?? new JsonObject());
        var previous = pod["status"]?["conditions"];
        if (status["conditions"] is JsonArray conditions)
        {
            for (var i = 0; i < conditions.Count; i++)
            {
                if (conditions[i] is JsonObject c && Json.Str(c, "type") is "Ready" or "ContainersReady")
                    conditions[i] = Conditions.Make(previous, Json.Str(c, "type")!, "False", "ContainersNotReady", $"containers with unready status: [{ContainerName}]", now);
            }
        }
        foreach (var cs in (status["containerStatuses"] as JsonArray)?.OfType<JsonObject>() ?? [])
            cs["ready"] = false;
        return status;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset b) => a is null || b < a ? b : a;

    private static JsonObject BuildStatus(JsonObject pod, SimulatedModelServer server, DateTimeOffset now)
    {
        var previous = Json.Node(pod, "status", "conditions");
        var state = server.State;
        var ready = state == ModelServerState.Running;
        var started = state != ModelServerState.Starting;
        var created = Json.Str(pod, "metadata", "creationTimestamp") ?? Json.Timestamp(now);
        var notReadyReason = ready ? null : "ContainersNotReady";
        var notReadyMessage = ready ? null : $"containers with unready status: [{ContainerName}]";
        var conditions = new JsonArray
        {
            Conditions.Make(previous, "PodReadyToStartContainers", "True", null, null, now),
            Conditions.Make(previous, "Initialized", "True", null, null, now),
            Conditions.Make(previous, "Ready", ready ? "True" : "False", notReadyReason, notReadyMessage, now),
            Conditions.Make(previous, "ContainersReady", ready ? "True" : "False", notReadyReason, notReadyMessage, now),
            Conditions.Make(previous, "PodScheduled", "True", null, null, now),
        };
        var image = Json.Str(Json.FindByKey(Json.Node(pod, "spec", "containers"), "name", ContainerName), "image") ?? "kserve/sklearnserver:latest";
        var containerId = "containerd://" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{server.Namespace}/{server.PodName}/{server.RestartCount}")));
        JsonObject stateObj = state switch
        {
            ModelServerState.Starting => new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ContainerCreating" } },
            ModelServerState.CrashLoopBackOff => new JsonObject
            {
                ["waiting"] = new JsonObject
                {
                    ["reason"] = "CrashLoopBackOff",
                    ["message"] = $"back-off restarting failed container {ContainerName} in pod {server.PodName}_{server.Namespace}",
                },
            },
            _ => new JsonObject { ["running"] = new JsonObject { ["startedAt"] = Json.Timestamp(server.StartedAt ?? now) } },
        };
        var lastState = new JsonObject();
        if (server.LastTerminatedAt is { } finished)
        {
            lastState["terminated"] = new JsonObject
            {
                ["exitCode"] = 1,
                ["reason"] = "Error",
                ["message"] = server.LastError,
                ["startedAt"] = Json.Timestamp(server.LastTerminatedStartedAt ?? finished),
                ["finishedAt"] = Json.Timestamp(finished),
                ["containerID"] = containerId,
            };
        }
        var containerStatus = new JsonObject
        {
            ["name"] = ContainerName,
            ["state"] = stateObj,
            ["lastState"] = lastState,
            ["ready"] = ready,
            ["restartCount"] = server.RestartCount,
            ["image"] = image,
            ["imageID"] = "docker.io/" + image.Split(':')[0] + "@sha256:" + new string('0', 64),
            ["started"] = started,
        };
        if (state != ModelServerState.Starting) containerStatus["containerID"] = containerId;
        return new JsonObject
        {
            ["phase"] = started ? "Running" : "Pending",
            ["conditions"] = conditions,
            ["hostIP"] = "127.0.0.1",
            ["hostIPs"] = new JsonArray { new JsonObject { ["ip"] = "127.0.0.1" } },
            ["podIP"] = "127.0.0.1",
            ["podIPs"] = new JsonArray { new JsonObject { ["ip"] = "127.0.0.1" } },
            ["startTime"] = created,
            ["containerStatuses"] = new JsonArray { containerStatus },
            ["qosClass"] = "BestEffort",
        };
    }

    public async ValueTask DisposeAsync()
    {
        List<SimulatedModelServer> servers;
        lock (_gate)
        {
            servers = [.. _servers.Values];
            _servers.Clear();
        }
        foreach (var s in servers) await s.DisposeAsync();
    }
}
