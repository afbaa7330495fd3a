using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s;
using k8s.Models;

namespace ArgoHooks.HookService.Continuous;

/// <summary>Why an InferenceService is looked at again.</summary>
[Flags]
public enum Trigger
{
    None = 0,
    Discovered = 1,
    ArtifactChanged = 2,
    PodChanged = 4,
    Probe = 8,
    Leadership = 16,
    Retry = 32,
}

/// <summary>
/// What the watches have seen: InferenceServices and predictor pods, kept current by watch events so that the
/// periodic probe and every decision read memory, not the API. Reports pods that became ready as new pods
/// (a new UID) or restarted containers (restartCount grew).
/// </summary>
public sealed class ClusterView
{
    private readonly ConcurrentDictionary<string, InferenceServiceSnapshot> inferenceServices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, V1Pod> pods = new(StringComparer.Ordinal);
    // Per pod UID: the restartCount last acknowledged while ready (null = seen, never ready yet).
    private readonly ConcurrentDictionary<string, int?> acknowledged = new(StringComparer.Ordinal);
    private readonly HashSet<string> listedScopes = [];
    private readonly Lock gate = new();

    public static string Key(string @namespace, string name) => @namespace + "/" + name;

    public IReadOnlyCollection<string> InferenceServiceKeys => inferenceServices.Keys.ToList();

    public InferenceServiceSnapshot? InferenceService(string key) => inferenceServices.TryGetValue(key, out var isvc) ? isvc : null;

    /// <summary>A complete list of one scope (a namespace, or "" for all): replaces what was known there.</summary>
    /// <returns>Keys whose InferenceService is new, gone, or whose storageUri, opt-in or generation changed.</returns>
    public IReadOnlyList<string> ReplaceInferenceServices(string? scope, IReadOnlyList<JsonObject> items)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var changed = new List<string>();
        foreach (var node in items)
        {
            var snapshot = InferenceServiceJson.ToSnapshot(node);
            var key = Key(snapshot.Namespace, snapshot.Name);
            seen.Add(key);
            if (Upsert(snapshot))
            {
                changed.Add(key);
            }
        }

        foreach (var key in inferenceServices.Keys.Where(key => InScope(scope, key) && !seen.Contains(key)).ToList())
        {
            inferenceServices.TryRemove(key, out _);
            changed.Add(key); // gone: the caller stops watching its folder
        }

        return changed;
    }

    /// <returns>The key when the change matters to continuous verification (new, deleted, storageUri, opt-in, generation), else null.</returns>
    public string? ApplyInferenceService(WatchEventType type, JsonObject node)
    {
        var snapshot = InferenceServiceJson.ToSnapshot(node);
        var key = Key(snapshot.Namespace, snapshot.Name);
        if (type == WatchEventType.Deleted)
        {
            inferenceServices.TryRemove(key, out _);
            return key; // gone: the caller stops watching its folder
        }

        return Upsert(snapshot) ? key : null;
    }

    private bool Upsert(InferenceServiceSnapshot snapshot)
    {
        var key = Key(snapshot.Namespace, snapshot.Name);
        var before = inferenceServices.TryGetValue(key, out var old) ? old : null;
        inferenceServices[key] = snapshot;
        return before is null
            || before.StorageUri != snapshot.StorageUri
            || before.Generation != snapshot.Generation
            || before.Annotation(ContractAnnotations.Verify) != snapshot.Annotation(ContractAnnotations.Verify)
            || before.Annotation(ContractAnnotations.Artifact) != snapshot.Annotation(ContractAnnotations.Artifact);
    }

    /// <summary>A complete pod list of one scope. The very first list of a scope is the baseline (no triggers);
    /// a re-list (after 410) reports what changed while the watch was gone.</summary>
    /// <returns>Keys of InferenceServices with a pod that became ready anew.</returns>
    public IReadOnlyList<string> ReplacePods(string? scope, IReadOnlyList<V1Pod> items)
    {
        bool baseline;
        lock (gate)
        {
            baseline = listedScopes.Add(scope ?? "");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var triggered = new List<string>();
        foreach (var pod in items)
        {
            var podKey = Key(pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name);
            seen.Add(podKey);
            if (Track(pod, baseline) is { } key)
            {
                triggered.Add(key);
            }
        }

        foreach (var podKey in pods.Keys.Where(key => InScope(scope, key) && !seen.Contains(key)).ToList())
        {
            if (pods.TryRemove(podKey, out var gone) && gone.Metadata.Uid is { } uid)
            {
                acknowledged.TryRemove(uid, out _);
            }
        }

        return triggered.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <returns>The InferenceService key when a pod became ready as a new pod or after a container restart.</returns>
    public string? ApplyPod(WatchEventType type, V1Pod pod)
    {
        var podKey = Key(pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name);
        if (type == WatchEventType.Deleted)
        {
            pods.TryRemove(podKey, out _);
            if (pod.Metadata.Uid is { } uid)
            {
                acknowledged.TryRemove(uid, out _);
            }

            return null;
        }

        return Track(pod, baseline: false);
    }

    private string? Track(V1Pod pod, bool baseline)
    {
        var podKey = Key(pod.Metadata.NamespaceProperty ?? "", pod.Metadata.Name);
        pods[podKey] = pod;
        if (pod.Metadata.Labels?.TryGetValue(PredictorNames.InferenceServiceLabel, out var isvc) != true || pod.Metadata.Uid is not { } uid)
        {
            return null;
        }

        var predictor = PredictorPods.ToPredictorPod(pod);
        var restartCount = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == PredictorNames.Container)?.RestartCount ?? 0;
        var live = pod.Metadata.DeletionTimestamp is null;
        if (!predictor.Ready || !live)
        {
            // Not ready yet (or terminating): when it becomes ready it is a pod to verify, even one seen in the baseline.
            acknowledged.TryAdd(uid, null);
            return null;
        }

        var known = acknowledged.TryGetValue(uid, out var count);
        if (known && count == restartCount)
        {
            return null;
        }

        acknowledged[uid] = restartCount;
        return baseline ? null : Key(pod.Metadata.NamespaceProperty ?? "", isvc!);
    }

    /// <summary>The predictor pods backing the InferenceService now (its ready revision in Knative mode), not terminating.</summary>
    public IReadOnlyList<PredictorPod> PredictorPodsOf(InferenceServiceSnapshot isvc)
    {
        var revision = isvc.DeploymentMode == InferenceServiceJson.Serverless ? isvc.LatestReadyRevision : null;
        return pods.Values
            .Where(pod => pod.Metadata.NamespaceProperty == isvc.Namespace
                && pod.Metadata.DeletionTimestamp is null
                && pod.Status?.Phase is not ("Succeeded" or "Failed")
                && pod.Metadata.Labels?.TryGetValue(PredictorNames.InferenceServiceLabel, out var name) == true && name == isvc.Name
                && pod.Metadata.Labels.TryGetValue(PredictorNames.ComponentLabel, out var component) && component == "predictor"
                && (revision is not { Length: > 0 } || (pod.Metadata.Labels.TryGetValue(PredictorNames.RevisionLabel, out var podRevision) && podRevision == revision)))
            .Select(PredictorPods.ToPredictorPod)
            .OrderBy(pod => pod.Name, StringComparer.Ordinal)
            .ToList();
    }

    private static bool InScope(string? scope, string key) => scope is null || key.StartsWith(scope + "/", StringComparison.Ordinal);
}
