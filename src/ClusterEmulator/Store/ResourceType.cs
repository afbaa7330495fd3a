namespace ArgoHooks.ClusterEmulator.Store;

/// <summary>One REST resource the emulated API server serves (what discovery advertises).</summary>
public sealed record ResourceType(
    string Group,
    string Version,
    string Plural,
    string Kind,
    bool Namespaced,
    IReadOnlyList<string> ShortNames,
    IReadOnlyList<string> Verbs,
    bool HasStatusSubresource,
    bool IsCustomResource,
    bool AllowUnconditionalUpdate,
    IReadOnlyList<string> Categories)
{
    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    /// <summary>"inferenceservices.serving.kserve.io", or "pods" for the core group (as in Status messages).</summary>
    public string GroupResource => Group.Length == 0 ? Plural : $"{Plural}.{Group}";

    public string Singular => Kind.ToLowerInvariant();

    public string ListKind => Kind + "List";

    public override string ToString() => $"{ApiVersion}/{Plural}";
}

/// <summary>The fixed set of resources the emulator serves.</summary>
public static class ResourceTypes
{
    private static readonly string[] ReadWrite = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    private static readonly string[] CreateOnly = ["create"];

    public static readonly ResourceType Namespaces = new("", "v1", "namespaces", "Namespace", false, ["ns"], ["create", "delete", "get", "list", "patch", "update", "watch"], true, false, true, []);
    public static readonly ResourceType Pods = new("", "v1", "pods", "Pod", true, ["po"], ReadWrite, true, false, true, ["all"]);
    public static readonly ResourceType CoreEvents = new("", "v1", "events", "Event", true, ["ev"], ReadWrite, false, false, true, []);
    public static readonly ResourceType Services = new("", "v1", "services", "Service", true, ["svc"], ReadWrite, true, false, true, ["all"]);
    public static readonly ResourceType Deployments = new("apps", "v1", "deployments", "Deployment", true, ["deploy"], ReadWrite, true, false, true, ["all"]);
    public static readonly ResourceType ReplicaSets = new("apps", "v1", "replicasets", "ReplicaSet", true, ["rs"], ReadWrite, true, false, true, ["all"]);
    public static readonly ResourceType Events = new("events.k8s.io", "v1", "events", "Event", true, ["ev"], ReadWrite, false, false, true, []);
    public static readonly ResourceType InferenceServices = new("serving.kserve.io", "v1beta1", "inferenceservices", "InferenceService", true, ["isvc"], ReadWrite, true, true, false, []);
    public static readonly ResourceType KnativeRevisions = new("serving.knative.dev", "v1", "revisions", "Revision", true, ["rev"], ReadWrite, true, true, false, ["all", "knative", "serving"]);
    public static readonly ResourceType Leases = new("coordination.k8s.io", "v1", "leases", "Lease", true, [], ReadWrite, false, false, true, []);
    public static readonly ResourceType TokenReviews = new("authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false, [], CreateOnly, false, false, true, []);
    public static readonly ResourceType SubjectAccessReviews = new("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", false, [], CreateOnly, false, false, true, []);

    public static IReadOnlyList<ResourceType> All { get; } =
        [Namespaces, Pods, CoreEvents, Services, Deployments, ReplicaSets, Events, InferenceServices, KnativeRevisions, Leases, TokenReviews, SubjectAccessReviews];

    /// <summary>Review resources are computed per request, never stored.</summary>
    public static bool IsVirtual(ResourceType type) => type == TokenReviews || type == SubjectAccessReviews;

    public static ResourceType? Find(string group, string version, string plural) =>
        All.FirstOrDefault(t => t.Group == group && t.Version == version && t.Plural == plural);

    public static ResourceType? FindByKind(string apiVersion, string kind) =>
        All.FirstOrDefault(t => t.ApiVersion == apiVersion && t.Kind == kind);
}
