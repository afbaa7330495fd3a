using System.Text.Json.Nodes;
using ArgoHooks.ClusterEmulator.Store;

namespace ArgoHooks.ClusterEmulator.Controllers;

/// <summary>
/// The KServe InferenceService controller for the predictor component, in raw mode (Deployment
/// <c>&lt;name&gt;-predictor</c>) and Knative mode (one revision <c>&lt;name&gt;-predictor-0000N</c> per predictor change,
/// each backed by a Deployment). Status follows KServe's own propagation, bug included: <c>Loaded</c>/<c>UpToDate</c> as
/// soon as the pods are ready, whether a model loaded or not, and <c>activeModelState: Loaded</c> is never reset.
/// </summary>
internal sealed class KServeController
{
    private const string Manager = "manager";
    public const string ModeAnnotation = "serving.kserve.io/deploymentMode";
    public const string StopAnnotation = "serving.kserve.io/stop";
    public const string IsvcLabel = "serving.kserve.io/inferenceservice";
    public const string RevisionLabel = "serving.knative.dev/revision";
    public const string ConfigurationLabel = "serving.knative.dev/configuration";
    public const string ServiceLabel = "serving.knative.dev/service";
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";
    private const string RevisionHashAnnotation = "emulator.argohooks.io/revision-template-hash";
    private static readonly string[] Frameworks = ["model", "sklearn", "xgboost", "lightgbm", "tensorflow", "pytorch", "onnx", "triton", "pmml", "paddle", "huggingface"];

    private readonly ObjectStore _store;
    private readonly TimeProvider _time;
    private AnnotationPropagation _propagation = new(false, new HashSet<string>());
    private long _requeues;

    /// <summary>InferenceServices whose reconcile hit a concurrent change and waits for the next pass.</summary>
    public long Requeues => Interlocked.Read(ref _requeues);

    public KServeController(ObjectStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>Whether InferenceService metadata annotations reach the pod template, and which keys never do.</summary>
    internal sealed record AnnotationPropagation(bool Enabled, IReadOnlySet<string> DisallowedList);

    public void Reconcile(string defaultMode, bool revertRolloutRestart, AnnotationPropagation propagation, CancellationToken cancellationToken)
    {
        _propagation = propagation;
        foreach (var isvc in _store.List(ResourceTypes.InferenceServices, null).Items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                ReconcileOne(isvc, defaultMode, revertRolloutRestart);
            }
            catch (Api.ApiException e) when (e.Code is 404 or 409)
            {
                // The InferenceService or a child changed under us: the next pass sees the new state, like a requeue.
                Interlocked.Increment(ref _requeues);
            }
        }
    }

    private void ReconcileOne(JsonObject isvc, string defaultMode, bool revertRolloutRestart)
    {
        var ns = Json.Str(isvc, "metadata", "namespace")!;
        var name = Json.Str(isvc, "metadata", "name")!;
        var annotations = Json.StringMap(Json.Node(isvc, "metadata", "annotations"));
        var modeName = Json.Str(isvc, "status", "deploymentMode") ?? annotations.GetValueOrDefault(ModeAnnotation) ?? defaultMode;
        var raw = DeploymentModes.Normalize(modeName) ?? true;
        var stopped = annotations.GetValueOrDefault(StopAnnotation) == "true";
        var template = DesiredTemplate(isvc, name, raw, _propagation);
        var replicas = stopped ? 0 : Json.Long(isvc, "spec", "predictor", "minReplicas") ?? 1;
        if (raw) ReconcileRaw(isvc, ns, name, modeName, template, replicas, stopped, revertRolloutRestart);
        else ReconcileKnative(isvc, ns, name, modeName, template, replicas, stopped);
    }

    private static JsonObject? PredictorModel(JsonObject isvc)
    {
        var predictor = Json.Node(isvc, "spec", "predictor") as JsonObject;
        foreach (var f in Frameworks)
            if (predictor?[f] is JsonObject o) return o;
        return null;
    }

    private static JsonObject DesiredTemplate(JsonObject isvc, string name, bool raw, AnnotationPropagation propagation)
    {
        var predictor = Json.Node(isvc, "spec", "predictor") as JsonObject ?? new JsonObject();
        var model = PredictorModel(isvc);
        var storageUri = Json.Str(model, "storageUri");
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in Json.StringMap(Json.Node(isvc, "metadata", "labels"))) labels[k] = v;
        foreach (var (k, v) in Json.StringMap(predictor["labels"])) labels[k] = v;
        labels["app"] = $"isvc.{name}-predictor";
        labels["component"] = "predictor";
        labels[IsvcLabel] = name;
        var podAnnotations = new Dictionary<string, string>(StringComparer.Ordinal);
        // KServe's buildObjectMeta: the InferenceService's own annotations (minus serviceAnnotationDisallowedList) go
        // into the component's pod template too, below the predictor's annotations in priority.
        if (propagation.Enabled)
        {
            foreach (var (k, v) in Json.StringMap(Json.Node(isvc, "metadata", "annotations")))
                if (!propagation.DisallowedList.Contains(k)) podAnnotations[k] = v;
        }
        foreach (var (k, v) in Json.StringMap(predictor["annotations"]))
            if (!propagation.DisallowedList.Contains(k)) podAnnotations[k] = v;
        if (storageUri is not null) podAnnotations[Kubelet.StorageUriAnnotation] = storageUri;
        if (!raw) podAnnotations["autoscaling.knative.dev/min-scale"] = (Json.Long(predictor, "minReplicas") ?? 1).ToString();
        var modelFormat = Json.Str(model, "modelFormat", "name") ?? (predictor["sklearn"] is not null ? "sklearn" : "sklearn");
        var container = new JsonObject
        {
            ["name"] = Kubelet.ContainerName,
            ["image"] = $"kserve/{modelFormat}server:v0.15.0",
            ["args"] = ContainerArgs(model, name),
            ["ports"] = new JsonArray { new JsonObject { ["containerPort"] = 8080, ["protocol"] = "TCP" } },
            ["readinessProbe"] = new JsonObject { ["tcpSocket"] = new JsonObject { ["port"] = 8080 } },
        };
        if (storageUri is not null && storageUri.StartsWith("pvc://", StringComparison.Ordinal))
        {
            var rest = storageUri["pvc://".Length..];
            var slash = rest.IndexOf('/');
            var claim = slash < 0 ? rest : rest[..slash];
            var sub = slash < 0 ? "" : rest[(slash + 1)..];
            container["volumeMounts"] = new JsonArray
            {
                new JsonObject { ["name"] = "kserve-pvc-source", ["mountPath"] = "/mnt/models", ["subPath"] = sub, ["readOnly"] = true },
            };
            return new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = Json.ToObject(labels), ["annotations"] = Json.ToObject(podAnnotations) },
                ["spec"] = new JsonObject
                {
                    ["containers"] = new JsonArray { container },
                    ["volumes"] = new JsonArray
                    {
                        new JsonObject { ["name"] = "kserve-pvc-source", ["persistentVolumeClaim"] = new JsonObject { ["claimName"] = claim, ["readOnly"] = true } },
                    },
                },
            };
        }
        return new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = Json.ToObject(labels), ["annotations"] = Json.ToObject(podAnnotations) },
            ["spec"] = new JsonObject { ["containers"] = new JsonArray { container } },
        };
    }

    /// <summary>The runtime's arguments: <c>--model_name</c> defaults to the InferenceService name; the predictor's own args are appended (and may rename the model).</summary>
    private static JsonArray ContainerArgs(JsonObject? model, string name)
    {
        var extra = (model?["args"] as JsonArray)?.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : "").Where(a => a.Length > 0).ToList() ?? [];
        var args = new JsonArray();
        if (!extra.Any(a => a.StartsWith("--model_name", StringComparison.Ordinal))) args.Add($"--model_name={name}");
        args.Add("--model_dir=/mnt/models");
        args.Add("--http_port=8080");
        foreach (var a in extra) args.Add(a);
        return args;
    }

    private JsonObject EnsureDeployment(JsonObject isvc, string ns, string deploymentName, JsonObject template, long replicas, JsonObject selectorLabels,
        bool revertRolloutRestart, IDictionary<string, string>? extraLabels = null)
    {
        var existing = _store.Get(ResourceTypes.Deployments, ns, deploymentName);
        var labels = Json.StringMap(Json.Node(template, "metadata", "labels"));
        if (extraLabels is not null) foreach (var (k, v) in extraLabels) labels[k] = v;
        if (existing is null)
        {
            var deployment = new JsonObject
            {
                ["apiVersion"] = "apps/v1",
                ["kind"] = "Deployment",
                ["metadata"] = new JsonObject
                {
                    ["name"] = deploymentName,
                    ["namespace"] = ns,
                    ["labels"] = Json.ToObject(labels),
                    ["ownerReferences"] = WorkloadControllers.OwnerReference(isvc),
                },
                ["spec"] = new JsonObject
                {
                    ["replicas"] = replicas,
                    ["selector"] = new JsonObject { ["matchLabels"] = selectorLabels.DeepClone() },
                    ["template"] = template.DeepClone(),
                    ["strategy"] = new JsonObject
                    {
                        ["type"] = "RollingUpdate",
                        ["rollingUpdate"] = new JsonObject { ["maxSurge"] = "25%", ["maxUnavailable"] = "25%" },
                    },
                    ["revisionHistoryLimit"] = 10,
                },
            };
            return _store.Create(ResourceTypes.Deployments, deployment, new WriteOptions(Manager));
        }

        var desiredTemplate = (JsonObject)template.DeepClone();
        if (!revertRolloutRestart && Json.Str(existing, "spec", "template", "metadata", "annotations", RestartedAtAnnotation) is { } restartedAt)
        {
            // Without the revert knob the controller's semantic comparison ignores the rollout-restart annotation.
            Json.Ensure(desiredTemplate, "metadata", "annotations")[RestartedAtAnnotation] = restartedAt;
        }
        var currentTemplate = Json.Node(existing, "spec", "template");
        if (JsonNode.DeepEquals(currentTemplate, desiredTemplate) && (Json.Long(existing, "spec", "replicas") ?? 1) == replicas) return existing;
        return _store.Modify(ResourceTypes.Deployments, ns, deploymentName, d =>
        {
            var spec = Json.Ensure(d, "spec");
            spec["template"] = desiredTemplate.DeepClone();
            spec["replicas"] = replicas;
            return d;
        }, new WriteOptions(Manager));
    }

    private void EnsureService(JsonObject isvc, string ns, string serviceName, JsonObject selector)
    {
        if (_store.Get(ResourceTypes.Services, ns, serviceName) is not null) return;
        _store.Create(ResourceTypes.Services, new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Service",
            ["metadata"] = new JsonObject { ["name"] = serviceName, ["namespace"] = ns, ["ownerReferences"] = WorkloadControllers.OwnerReference(isvc) },
            ["spec"] = new JsonObject
            {
                ["selector"] = selector.DeepClone(),
                ["ports"] = new JsonArray { new JsonObject { ["name"] = "http", ["port"] = 80, ["protocol"] = "TCP", ["targetPort"] = 8080 } },
                ["type"] = "ClusterIP",
                ["clusterIP"] = "10.96.0." + (Math.Abs(serviceName.GetHashCode(StringComparison.Ordinal)) % 250 + 2),
            },
        }, new WriteOptions(Manager));
    }

    private void ReconcileRaw(JsonObject isvc, string ns, string name, string modeName, JsonObject template, long replicas, bool stopped, bool revertRolloutRestart)
    {
        var deploymentName = $"{name}-predictor";
        var selector = new JsonObject { ["app"] = $"isvc.{name}-predictor" };
        var deployment = EnsureDeployment(isvc, ns, deploymentName, template, replicas, selector, revertRolloutRestart);
        EnsureService(isvc, ns, deploymentName, selector);
        var now = _time.GetUtcNow();
        var previousStatus = isvc["status"] as JsonObject;
        var previousConditions = previousStatus?["conditions"];
        var depConditions = Json.Node(deployment, "status", "conditions");

        // PropagateRawStatus: Available drives PredictorReady; Progressing False with a message (ProgressDeadlineExceeded) wins.
        (string Status, string? Reason, string? Message) predictor = ("False", null, null);
        var available = Conditions.Find(depConditions, "Available");
        var progressing = Conditions.Find(depConditions, "Progressing");
        if (Json.Str(available, "status") == "True") predictor = ("True", Json.Str(available, "reason"), Json.Str(available, "message"));
        if (progressing is not null)
        {
            if (Json.Str(progressing, "status") == "False")
            {
                if (!string.IsNullOrEmpty(Json.Str(progressing, "message"))) predictor = ("False", Json.Str(progressing, "reason"), Json.Str(progressing, "message"));
            }
            else if (Json.Str(progressing, "status") == "True")
            {
                predictor = Json.Str(progressing, "reason") == "NewReplicaSetAvailable"
                    ? ("True", Json.Str(progressing, "reason"), Json.Str(progressing, "message"))
                    : ("Unknown", Json.Str(progressing, "reason"), Json.Str(progressing, "message"));
            }
        }
        if (Json.Str(available, "status") == "False") predictor = ("False", Json.Str(available, "reason"), Json.Str(available, "message"));
        if (stopped) predictor = ("False", "Stopped", "The inferenceservice is stopped");

        var status = new JsonObject();
        var conditions = new List<JsonObject>
        {
            Conditions.Make(previousConditions, "IngressReady", "True", null, null, now),
            Conditions.Make(previousConditions, "PredictorReady", predictor.Status, predictor.Status == "True" ? null : predictor.Reason, predictor.Status == "True" ? null : predictor.Message, now),
        };
        var ready = Aggregate(conditions, previousConditions, now);
        conditions.Add(ready);
        if (stopped) conditions.Add(Conditions.Make(previousConditions, "Stopped", "True", null, null, now));
        else if (Conditions.Find(previousConditions, "Stopped") is not null) conditions.Add(Conditions.Make(previousConditions, "Stopped", "False", null, null, now));
        status["conditions"] = new JsonArray(conditions.OrderBy(c => Json.Str(c, "type"), StringComparer.Ordinal).Select(c => (JsonNode)c).ToArray());

        var url = $"http://{name}-{ns}.example.com";
        var predictorComponent = new JsonObject();
        if (predictor.Status == "True") predictorComponent["url"] = $"http://{name}-predictor-{ns}.example.com";
        status["components"] = new JsonObject { ["predictor"] = predictorComponent };
        status["url"] = url;
        status["address"] = new JsonObject { ["url"] = $"http://{name}-predictor.{ns}.svc.cluster.local" };
        if (Json.Long(deployment, "status", "observedGeneration") is { } og) status["observedGeneration"] = og;
        status["deploymentMode"] = modeName;

        var pods = PredictorPods(ns, $"{IsvcLabel}={name},component=predictor");
        status["modelStatus"] = ModelStatus(previousStatus, pods, Json.Str(ready, "status") == "True", rawDeployment: true, latestCreated: null, latestReady: null, knativeFailed: false, now);
        WriteStatus(ns, name, previousStatus, status);
    }

    private void ReconcileKnative(JsonObject isvc, string ns, string name, string modeName, JsonObject template, long replicas, bool stopped)
    {
        var serviceName = $"{name}-predictor";
        var now = _time.GetUtcNow();
        var previousStatus = isvc["status"] as JsonObject;
        var previousConditions = previousStatus?["conditions"];
        var hash = WorkloadControllers.TemplateHash(template);
        var revisions = _store.List(ResourceTypes.Deployments, ns, LabelSelector.Parse($"{ConfigurationLabel}={serviceName},{IsvcLabel}={name}")).Items
            .OrderBy(d => RevisionNumber(Json.StringMap(Json.Node(d, "metadata", "labels")).GetValueOrDefault(RevisionLabel))).ToList();
        var latest = revisions.LastOrDefault();
        if (latest is null || Json.Str(latest, "metadata", "annotations", RevisionHashAnnotation) != hash)
        {
            var number = latest is null ? 1 : RevisionNumber(Json.StringMap(Json.Node(latest, "metadata", "labels")).GetValueOrDefault(RevisionLabel)) + 1;
            var revisionName = $"{serviceName}-{number:D5}";
            var revTemplate = (JsonObject)template.DeepClone();
            var labels = Json.Ensure(revTemplate, "metadata", "labels");
            labels[RevisionLabel] = revisionName;
            labels[ConfigurationLabel] = serviceName;
            labels[ServiceLabel] = serviceName;
            labels["app"] = revisionName;
            var extra = new Dictionary<string, string> { [RevisionLabel] = revisionName, [ConfigurationLabel] = serviceName, [ServiceLabel] = serviceName };
            var created = EnsureDeployment(isvc, ns, $"{revisionName}-deployment", revTemplate, replicas, new JsonObject { [RevisionLabel] = revisionName }, true, extra);
            latest = _store.Modify(ResourceTypes.Deployments, ns, Json.Str(created, "metadata", "name")!, d =>
            {
                Json.Ensure(d, "metadata", "annotations")[RevisionHashAnnotation] = hash;
                return d;
            }, new WriteOptions(Manager));
            revisions.Add(latest);
            EnsureRevisionObject(isvc, ns, revisionName, serviceName);
        }
        var latestCreated = Json.StringMap(Json.Node(latest, "metadata", "labels"))[RevisionLabel];
        var latestDeploymentReady = DeploymentReady(latest);
        var previousReady = Json.Str(previousStatus, "components", "predictor", "latestReadyRevision");
        var latestReady = latestDeploymentReady ? latestCreated : previousReady;
        var latestFailed = Conditions.Find(Json.Node(latest, "status", "conditions"), "Progressing") is { } p && Json.Str(p, "status") == "False";

        // Scale the latest revision to the wanted size, and old revisions to zero once the latest is ready.
        foreach (var rev in revisions)
        {
            var revName = Json.StringMap(Json.Node(rev, "metadata", "labels"))[RevisionLabel];
            long want = stopped ? 0 : revName == latestCreated || revName == latestReady ? replicas : 0;
            if ((Json.Long(rev, "spec", "replicas") ?? 1) != want)
            {
                _store.Modify(ResourceTypes.Deployments, ns, Json.Str(rev, "metadata", "name")!, d =>
                {
                    Json.Ensure(d, "spec")["replicas"] = want;
                    return d;
                }, new WriteOptions("knative-autoscaler"));
            }
            UpdateRevisionObject(ns, revName, rev, revName == latestReady);
        }

        (string Status, string? Reason, string? Message) ksvcReady;
        if (stopped) ksvcReady = ("False", "Stopped", "The inferenceservice is stopped");
        else if (latestReady == latestCreated && latestReady is not null) ksvcReady = ("True", null, null);
        else if (latestFailed) ksvcReady = ("False", "RevisionFailed", $"Revision \"{latestCreated}\" failed with message: {Json.Str(Conditions.Find(Json.Node(latest, "status", "conditions"), "Progressing"), "message")}.");
        else ksvcReady = ("Unknown", "RevisionMissing", $"Configuration \"{serviceName}\" is waiting for a Revision to become ready.");

        var conditions = new List<JsonObject>
        {
            Conditions.Make(previousConditions, "IngressReady", "True", null, null, now),
            Conditions.Make(previousConditions, "PredictorReady", ksvcReady.Status, ksvcReady.Reason, ksvcReady.Message, now),
            Conditions.Make(previousConditions, "PredictorRouteReady", "True", null, null, now),
            Conditions.Make(previousConditions, "PredictorConfigurationReady", ksvcReady.Status, ksvcReady.Reason, ksvcReady.Message, now),
            Conditions.Make(previousConditions, "RoutesReady", "True", null, null, now),
            Conditions.Make(previousConditions, "LatestDeploymentReady", ksvcReady.Status, ksvcReady.Status == "True" ? null : "PredictorConfigurationReady not ready", null, now),
        };
        var ready = Aggregate(conditions.Where(c => Json.Str(c, "type") is "IngressReady" or "PredictorReady").ToList(), previousConditions, now);
        conditions.Add(ready);
        if (stopped) conditions.Add(Conditions.Make(previousConditions, "Stopped", "True", null, null, now));
        else if (Conditions.Find(previousConditions, "Stopped") is not null) conditions.Add(Conditions.Make(previousConditions, "Stopped", "False", null, null, now));

        var status = new JsonObject
        {
            ["conditions"] = new JsonArray(conditions.OrderBy(c => Json.Str(c, "type"), StringComparer.Ordinal).Select(c => (JsonNode)c).ToArray()),
        };
        var component = new JsonObject { ["latestCreatedRevision"] = latestCreated };
        if (latestReady is not null)
        {
            component["latestReadyRevision"] = latestReady;
            var previousRolledOut = Json.Str(previousStatus, "components", "predictor", "latestRolledoutRevision");
            var previousPrevious = Json.Str(previousStatus, "components", "predictor", "previousRolledoutRevision");
            if (previousRolledOut != latestReady && previousRolledOut is not null) component["previousRolledoutRevision"] = previousRolledOut;
            else if (previousPrevious is not null) component["previousRolledoutRevision"] = previousPrevious;
            component["latestRolledoutRevision"] = latestReady;
            component["traffic"] = new JsonArray
            {
                new JsonObject { ["revisionName"] = latestReady, ["percent"] = 100, ["latestRevision"] = latestReady == latestCreated },
            };
        }
        if (ksvcReady.Status == "True")
        {
            component["url"] = $"http://{serviceName}.{ns}.example.com";
            component["address"] = new JsonObject { ["url"] = $"http://{serviceName}.{ns}.svc.cluster.local" };
        }
        status["components"] = new JsonObject { ["predictor"] = component };
        status["url"] = $"http://{name}.{ns}.example.com";
        status["address"] = new JsonObject { ["url"] = $"http://{name}.{ns}.svc.cluster.local" };
        // KServe copies the Knative Service's observedGeneration, which counts Knative Service updates, not InferenceService generations.
        status["observedGeneration"] = revisions.Count;
        status["deploymentMode"] = modeName;
        var pods = PredictorPods(ns, $"{RevisionLabel}={latestCreated}");
        status["modelStatus"] = ModelStatus(previousStatus, pods, Json.Str(ready, "status") == "True", rawDeployment: false, latestCreated, latestReady,
            knativeFailed: ksvcReady.Status == "False", now);
        WriteStatus(ns, name, previousStatus, status);
    }

    private static long RevisionNumber(string? revisionName) =>
        revisionName is not null && revisionName.Length > 5 && long.TryParse(revisionName[^5..], out var n) ? n : 0;

    private static bool DeploymentReady(JsonObject deployment)
    {
        var want = Json.Long(deployment, "spec", "replicas") ?? 1;
        var available = Json.Long(deployment, "status", "availableReplicas") ?? 0;
        return want > 0 && available >= want && Json.Long(deployment, "status", "updatedReplicas") >= want;
    }

    private void EnsureRevisionObject(JsonObject isvc, string ns, string revisionName, string serviceName)
    {
        if (_store.Get(ResourceTypes.KnativeRevisions, ns, revisionName) is not null) return;
        _store.Create(ResourceTypes.KnativeRevisions, new JsonObject
        {
            ["apiVersion"] = "serving.knative.dev/v1",
            ["kind"] = "Revision",
            ["metadata"] = new JsonObject
            {
                ["name"] = revisionName,
                ["namespace"] = ns,
                ["labels"] = new JsonObject { [ConfigurationLabel] = serviceName, [ServiceLabel] = serviceName, [IsvcLabel] = Json.Str(isvc, "metadata", "name") },
                ["ownerReferences"] = WorkloadControllers.OwnerReference(isvc),
            },
            ["spec"] = new JsonObject { ["containerConcurrency"] = 0 },
        }, new WriteOptions("controller"));
    }

    private void UpdateRevisionObject(string ns, string revisionName, JsonObject deployment, bool isReadyRevision)
    {
        var revision = _store.Get(ResourceTypes.KnativeRevisions, ns, revisionName);
        if (revision is null) return;
        var now = _time.GetUtcNow();
        var ready = DeploymentReady(deployment) || (isReadyRevision && (Json.Long(deployment, "spec", "replicas") ?? 1) == 0);
        var failed = Conditions.Find(Json.Node(deployment, "status", "conditions"), "Progressing") is { } p && Json.Str(p, "status") == "False";
        var prev = Json.Node(revision, "status", "conditions");
        var status = new JsonObject
        {
            ["observedGeneration"] = 1,
            ["conditions"] = new JsonArray
            {
                ready ? Conditions.Make(prev, "Ready", "True", null, null, now)
                    : failed ? Conditions.Make(prev, "Ready", "False", "ProgressDeadlineExceeded", "Initial scale was never achieved", now)
                    : Conditions.Make(prev, "Ready", "Unknown", "Deploying", null, now),
            },
            ["actualReplicas"] = Json.Long(deployment, "status", "readyReplicas") ?? 0,
            ["desiredReplicas"] = Json.Long(deployment, "spec", "replicas") ?? 1,
        };
        if (JsonNode.DeepEquals(status, revision["status"])) return;
        _store.Modify(ResourceTypes.KnativeRevisions, ns, revisionName, r =>
        {
            r["status"] = status.DeepClone();
            return r;
        }, new WriteOptions("controller", Subresource: "status"));
    }

    private List<JsonObject> PredictorPods(string ns, string selector) =>
        _store.List(ResourceTypes.Pods, ns, LabelSelector.Parse(selector)).Items;

    /// <summary>Knative's living condition set: Ready mirrors the first dependent that is not True.</summary>
    private static JsonObject Aggregate(List<JsonObject> dependents, JsonNode? previousConditions, DateTimeOffset now)
    {
        var falseOne = dependents.FirstOrDefault(c => Json.Str(c, "status") == "False");
        var unknownOne = dependents.FirstOrDefault(c => Json.Str(c, "status") != "True");
        var pick = falseOne ?? unknownOne;
        return pick is null
            ? Conditions.Make(previousConditions, "Ready", "True", null, null, now)
            : Conditions.Make(previousConditions, "Ready", Json.Str(pick, "status")!, Json.Str(pick, "reason"), Json.Str(pick, "message"), now);
    }

    /// <summary>KServe's PropagateModelStatus, on the predictor pods sorted by name (the first one is inspected for crashes).</summary>
    private static JsonObject ModelStatus(JsonObject? previousStatus, List<JsonObject> pods, bool isReady, bool rawDeployment,
        string? latestCreated, string? latestReady, bool knativeFailed, DateTimeOffset now)
    {
        var previous = previousStatus?["modelStatus"] as JsonObject;
        var activeState = Json.Str(previous, "states", "activeModelState") ?? "";
        var lastFailure = previous?["lastFailureInfo"]?.DeepClone();
        var readyCopies = pods.Count(p => Json.Str(p, "status", "phase") == "Running" && WorkloadControllers.IsReady(p));
        string target;
        string transition;
        JsonObject? failure = null;

        if (pods.Count == 0)
        {
            target = !rawDeployment && knativeFailed ? "FailedToLoad" : "Pending";
        }
        else if (isReady && (rawDeployment || latestCreated == latestReady))
        {
            target = "Loaded";
        }
        else
        {
            target = "Pending";
            var first = pods.OrderBy(p => Json.Str(p, "metadata", "name"), StringComparer.Ordinal).First();
            var cs = Json.FindByKey(Json.Node(first, "status", "containerStatuses"), "name", Kubelet.ContainerName);
            var terminated = Json.Node(cs, "state", "terminated") as JsonObject;
            var waitingReason = Json.Str(cs, "state", "waiting", "reason");
            if (terminated is not null && Json.Str(terminated, "reason") == "Error")
            {
                target = "FailedToLoad";
                failure = Failure(Json.Str(terminated, "message"), Json.Long(terminated, "exitCode"));
            }
            else if (waitingReason == "CrashLoopBackOff")
            {
                target = "FailedToLoad";
                failure = Failure(Json.Str(cs, "lastState", "terminated", "message"), Json.Long(cs, "lastState", "terminated", "exitCode"));
            }
        }
        transition = target switch
        {
            "Loaded" => "UpToDate",
            "FailedToLoad" => "BlockedByFailedLoad",
            _ => "InProgress",
        };
        if (target == "Loaded") activeState = "Loaded";
        var states = new JsonObject { ["activeModelState"] = activeState, ["targetModelState"] = target };
        var result = new JsonObject
        {
            ["states"] = states,
            ["transitionStatus"] = transition,
            ["copies"] = new JsonObject { ["failedCopies"] = 0, ["totalCopies"] = readyCopies },
        };
        if (failure is not null) lastFailure = failure;
        if (lastFailure is not null) result["lastFailureInfo"] = lastFailure;
        _ = now;
        return result;
    }

    private static JsonObject Failure(string? message, long? exitCode)
    {
        var f = new JsonObject { ["reason"] = "ModelLoadFailed" };
        if (!string.IsNullOrEmpty(message)) f["message"] = message;
        if (exitCode is { } code && code != 0) f["exitCode"] = code;
        return f;
    }

    private void WriteStatus(string ns, string name, JsonObject? previousStatus, JsonObject status)
    {
        if (JsonNode.DeepEquals(previousStatus, status)) return;
        _store.Modify(ResourceTypes.InferenceServices, ns, name, i =>
        {
            i["status"] = status.DeepClone();
            return i;
        }, new WriteOptions(Manager, Subresource: "status"));
    }
}
