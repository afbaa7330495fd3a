using System.Globalization;

namespace ArgoHooks.SyncLayout;

/// <summary>Argo CD's sync phases, in the order a sync runs them (gitops-engine pkg/sync/sync_tasks.go syncPhaseOrder).</summary>
public enum SyncPhase
{
    PreSync = -1,
    Sync = 0,
    PostSync = 1,

    /// <summary>Runs only when the sync failed; never part of a successful sync.</summary>
    SyncFail = 2,
}

/// <summary>
/// One step of a sync: Argo CD applies every task of a (phase, wave) together and, unless it is the last step with no
/// hooks, waits until all of them are Healthy (hooks: completed) before it starts the next step.
/// </summary>
public readonly record struct SyncStep(SyncPhase Phase, long Wave) : IComparable<SyncStep>
{
    public int CompareTo(SyncStep other)
    {
        var byPhase = ((int)Phase).CompareTo((int)other.Phase);
        return byPhase != 0 ? byPhase : Wave.CompareTo(other.Wave);
    }

    public static bool operator <(SyncStep left, SyncStep right) => left.CompareTo(right) < 0;

    public static bool operator >(SyncStep left, SyncStep right) => left.CompareTo(right) > 0;

    public static bool operator <=(SyncStep left, SyncStep right) => left.CompareTo(right) <= 0;

    public static bool operator >=(SyncStep left, SyncStep right) => left.CompareTo(right) >= 0;

    /// <summary>"wave 3" in the Sync phase, else "the PostSync phase" / "the PreSync phase, wave -1".</summary>
    public override string ToString() => Phase == SyncPhase.Sync
        ? $"wave {Wave.ToString(CultureInfo.InvariantCulture)}"
        : Wave == 0 ? $"the {Phase} phase" : $"the {Phase} phase, wave {Wave.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>Where Argo CD places one resource in a sync.</summary>
/// <param name="Steps">Empty when Argo CD never applies it during a sync (hook Skip, or a Helm hook Argo CD does not map).</param>
/// <param name="IsHook">Hooks are always waited for, even in the last step.</param>
/// <param name="InvalidWave">The sync-wave annotation's text when it is not an integer (Argo CD then ignores it).</param>
public sealed record Placement(IReadOnlyList<SyncStep> Steps, bool IsHook, string? InvalidWave, string? NotAppliedReason);

/// <summary>
/// Argo CD's ordering rules as gitops-engine implements them (pkg/sync/hook/hook.go, hook/helm/type.go, hook/helm/hook.go,
/// syncwaves/waves.go, sync_phase.go, sync_tasks.go). Mirrored, not approximated: same annotation parsing, same fallbacks.
/// </summary>
public static class ArgoCdOrdering
{
    public const string SyncWaveAnnotation = "argocd.argoproj.io/sync-wave";
    public const string HookAnnotation = "argocd.argoproj.io/hook";
    public const string HelmHookAnnotation = "helm.sh/hook";
    public const string HelmHookWeightAnnotation = "helm.sh/hook-weight";

    private static readonly Dictionary<string, SyncPhase?> ArgoHookTypes = new(StringComparer.Ordinal)
    {
        ["PreSync"] = SyncPhase.PreSync,
        ["Sync"] = SyncPhase.Sync,
        ["PostSync"] = SyncPhase.PostSync,
        ["SyncFail"] = SyncPhase.SyncFail,
        ["Skip"] = null,
    };

    // Helm hooks Argo CD maps to its own phases; every other Helm hook (test, pre-delete, post-rollback...) is never run.
    private static readonly Dictionary<string, SyncPhase> HelmHookTypes = new(StringComparer.Ordinal)
    {
        ["pre-install"] = SyncPhase.PreSync,
        ["pre-upgrade"] = SyncPhase.PreSync,
        ["post-install"] = SyncPhase.PostSync,
        ["post-upgrade"] = SyncPhase.PostSync,
    };

    // Kinds in the order Argo CD applies them within one step (Helm's install order); any other kind, custom
    // resources such as InferenceService included, comes after all of these.
    private static readonly string[] KindsInApplyOrder =
    [
        "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget",
        "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
        "CustomResourceDefinition", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList",
        "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
        "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
        "APIService",
    ];

    public static Placement Place(IReadOnlyDictionary<string, string> annotations)
    {
        var wave = Wave(annotations, out var invalidWave);
        var argoTypes = Csv(annotations, HookAnnotation);
        var recognisedArgo = argoTypes.Where(ArgoHookTypes.ContainsKey).ToList();

        // Types(): Argo CD's own hook annotation wins; Helm's is read only when it names no known Argo CD hook type.
        List<SyncPhase?> types = recognisedArgo.Count > 0
            ? recognisedArgo.Select(type => ArgoHookTypes[type]).ToList()
            : Csv(annotations, HelmHookAnnotation).Where(HelmHookTypes.ContainsKey).Select(type => (SyncPhase?)HelmHookTypes[type]).ToList();

        // Skip(): a resource whose only hook type is Skip is not applied at all.
        var skip = types.Contains(null) && types.Count == 1;
        if (skip)
        {
            return new Placement([], false, invalidWave, $"{HookAnnotation}: Skip tells Argo CD never to apply it");
        }

        // IsHook(): the Argo CD annotation is present at all, else a Helm hook other than crd-install.
        var isHook = annotations.ContainsKey(HookAnnotation)
            || (annotations.TryGetValue(HelmHookAnnotation, out var helmHook) && helmHook != "crd-install");
        if (!isHook)
        {
            return new Placement([new SyncStep(SyncPhase.Sync, wave)], false, invalidWave, null);
        }

        var phases = types.OfType<SyncPhase>().Distinct().Order().ToList();
        if (phases.Count == 0)
        {
            var which = annotations.ContainsKey(HookAnnotation)
                ? $"{HookAnnotation} \"{annotations[HookAnnotation]}\""
                : $"{HelmHookAnnotation} \"{annotations[HelmHookAnnotation]}\"";
            return new Placement([], true, invalidWave, $"{which} names no hook Argo CD runs during a sync");
        }

        return new Placement(phases.Select(phase => new SyncStep(phase, wave)).ToList(), true, invalidWave, null);
    }

    /// <summary>
    /// Wave(): argocd.argoproj.io/sync-wave parsed like Go's strconv.Atoi (optional sign, ASCII digits, no spaces);
    /// when absent or not an integer, helm.sh/hook-weight the same way; else 0.
    /// </summary>
    public static long Wave(IReadOnlyDictionary<string, string> annotations, out string? invalidWave)
    {
        invalidWave = null;
        if (annotations.TryGetValue(SyncWaveAnnotation, out var text))
        {
            if (TryParseAtoi(text, out var wave))
            {
                return wave;
            }

            invalidWave = text;
        }

        return annotations.TryGetValue(HelmHookWeightAnnotation, out var weightText) && TryParseAtoi(weightText, out var weight) ? weight : 0;
    }

    /// <summary>The position of a kind in Argo CD's apply order within a step (lower first; unknown kinds last).</summary>
    public static int KindOrder(string kind)
    {
        var index = Array.IndexOf(KindsInApplyOrder, kind);
        return index < 0 ? 0 : index - KindsInApplyOrder.Length;
    }

    internal static bool TryParseAtoi(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)
        && text.Length > 0 && text.All(character => character is '+' or '-' or (>= '0' and <= '9'));

    /// <summary>GetAnnotationCSVs(): split on commas, trim, drop empty and duplicate items.</summary>
    internal static List<string> Csv(IReadOnlyDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out var value)
            ? value.Split(',').Select(item => item.Trim()).Where(item => item.Length > 0).Distinct(StringComparer.Ordinal).ToList()
            : [];
}
