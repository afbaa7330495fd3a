namespace ArgoHooks.Deploy.Tests;

/// <summary>The rendered RBAC is exactly what the code uses (docs/kubernetes-adapters.md): an extra verb fails.</summary>
public sealed class RbacTests
{
    private static readonly string[] AuthRules =
    [
        "ClusterRole/argohooks-auth authentication.k8s.io/tokenreviews create",
        "ClusterRole/argohooks-auth authorization.k8s.io/subjectaccessreviews create",
    ];

    private static readonly string[] NamespacedRules =
    [
        "ClusterRole/argohooks serving.kserve.io/inferenceservices get",
        "ClusterRole/argohooks serving.kserve.io/inferenceservices list",
        "ClusterRole/argohooks serving.kserve.io/inferenceservices watch",
        "ClusterRole/argohooks serving.kserve.io/inferenceservices patch",
        "ClusterRole/argohooks /pods list",
        "ClusterRole/argohooks apps/deployments get",
        "ClusterRole/argohooks apps/deployments watch",
        "ClusterRole/argohooks events.k8s.io/events create",
        "ClusterRole/argohooks /events create",
    ];

    /// <summary>One line per (role, apiGroup, resource, verb); resourceNames and nonResourceURLs show up too so they fail the comparison.</summary>
    internal static SortedSet<string> Permissions(IEnumerable<Manifest> manifests) =>
        new(manifests
            .Where(manifest => manifest.Kind is "Role" or "ClusterRole")
            .SelectMany(role => role.Root.Maps("rules").SelectMany(rule =>
                from apiGroup in rule.Strings("apiGroups").DefaultIfEmpty("<none>")
                from resource in rule.Strings("resources").Concat(rule.Strings("nonResourceURLs").Select(url => "url:" + url)).DefaultIfEmpty("<none>")
                from verb in rule.Strings("verbs").DefaultIfEmpty("<none>")
                select $"{role.Kind}/{role.Name} {apiGroup}/{resource} {verb}"
                       + (rule.Strings("resourceNames").Count > 0 ? " names=" + string.Join(',', rule.Strings("resourceNames")) : ""))),
            StringComparer.Ordinal);

    public static TheoryData<string, string[]> HookServiceOverlays() => new()
    {
        { "base", [] },
        { "overlays/cluster-wide", [] },
        { "overlays/strategy-delete-pods", ["ClusterRole/argohooks /pods delete"] },
        { "overlays/strategy-deployment", ["ClusterRole/argohooks apps/deployments patch"] },
        {
            "overlays/continuous",
            [
                "ClusterRole/argohooks /pods watch",
                "Role/argohooks-leader-election coordination.k8s.io/leases get",
                "Role/argohooks-leader-election coordination.k8s.io/leases create",
                "Role/argohooks-leader-election coordination.k8s.io/leases update",
            ]
        },
    };

    [Theory]
    [MemberData(nameof(HookServiceOverlays))]
    public async Task The_hook_service_gets_exactly_the_verbs_its_strategy_uses(string folder, string[] extra)
    {
        var manifests = await Kustomize.RenderAsync(folder);
        var expected = new SortedSet<string>([.. AuthRules, .. NamespacedRules, .. extra], StringComparer.Ordinal);
        Assert.Equal(expected, Permissions(manifests));
    }

    [Theory]
    [InlineData("base", "inferenceservice")]
    [InlineData("overlays/cluster-wide", "inferenceservice")]
    [InlineData("overlays/strategy-delete-pods", "delete-pods")]
    [InlineData("overlays/strategy-deployment", "deployment")]
    [InlineData("overlays/continuous", "inferenceservice")]
    public async Task The_overlay_sets_the_restart_strategy_it_grants(string folder, string strategy)
    {
        var deployment = HookServiceDeploymentTests.HookService(await Kustomize.RenderAsync(folder));
        Assert.Equal(strategy, HookServiceDeploymentTests.Env(deployment, "ArgoHooks__Kubernetes__RestartStrategy"));
    }

    [Fact]
    public async Task The_base_binds_auth_cluster_wide_and_the_work_only_in_its_own_namespace()
    {
        var manifests = await Kustomize.RenderAsync("base");
        var clusterBinding = Assert.Single(manifests, manifest => manifest.Kind == "ClusterRoleBinding");
        Assert.Equal("argohooks-auth", clusterBinding.At("roleRef").Str("name"));
        AssertSubjectIsHookService(clusterBinding, "argohooks");

        var roleBinding = Assert.Single(manifests, manifest => manifest.Kind == "RoleBinding");
        Assert.Equal("argohooks", roleBinding.Namespace);
        Assert.Equal(("ClusterRole", "argohooks"), (roleBinding.At("roleRef").Str("kind"), roleBinding.At("roleRef").Str("name")));
        AssertSubjectIsHookService(roleBinding, "argohooks");

        // The allow-list matches the binding: runs may only target the pod's own namespace.
        var env = HookServiceDeploymentTests.HookService(manifests).At("spec", "template", "spec").Maps("containers")[0].Maps("env");
        var allowed = Assert.Single(env, variable => variable.Str("name") == "ArgoHooks__Security__AllowedNamespaces__0");
        Assert.Equal("metadata.namespace", allowed.At("valueFrom", "fieldRef").Str("fieldPath"));
    }

    [Fact]
    public async Task The_cluster_wide_overlay_binds_everywhere_and_lifts_the_allow_list()
    {
        var manifests = await Kustomize.RenderAsync("overlays/cluster-wide");
        var bindings = manifests.Where(manifest => manifest.Kind == "ClusterRoleBinding").ToDictionary(binding => binding.Name, binding => binding.At("roleRef").Str("name"));
        Assert.Equal(new Dictionary<string, string?> { ["argohooks"] = "argohooks", ["argohooks-auth"] = "argohooks-auth" }, bindings);
        Assert.Single(manifests, manifest => manifest is { Kind: "Namespace", Name: "argohooks" });
        var deployment = HookServiceDeploymentTests.HookService(manifests);
        Assert.Null(HookServiceDeploymentTests.EnvVar(deployment, "ArgoHooks__Security__AllowedNamespaces__0"));
    }

    [Fact]
    public async Task A_grant_binds_the_namespaced_role_to_the_hook_service_account_only()
    {
        var manifests = await Kustomize.RenderAsync("grant");
        var binding = Assert.Single(manifests);
        Assert.Equal("RoleBinding", binding.Kind);
        Assert.Equal(("ClusterRole", "argohooks"), (binding.At("roleRef").Str("kind"), binding.At("roleRef").Str("name")));
        AssertSubjectIsHookService(binding, "argohooks");
    }

    [Fact]
    public async Task The_caller_may_only_patch_inferenceservices_in_its_namespace()
    {
        foreach (var folder in new[] { "job", "job/sync-wave", "job/post-sync", "job/caller-rbac" })
        {
            var manifests = await Kustomize.RenderAsync(folder);
            Assert.Equal(["Role/argohooks-caller serving.kserve.io/inferenceservices patch"], Permissions(manifests));
            Assert.DoesNotContain(manifests, manifest => manifest.Kind is "ClusterRole" or "ClusterRoleBinding");
            var binding = Assert.Single(manifests, manifest => manifest.Kind == "RoleBinding");
            Assert.Equal(("Role", "argohooks-caller"), (binding.At("roleRef").Str("kind"), binding.At("roleRef").Str("name")));
            var subject = Assert.Single(binding.Root.Maps("subjects"));
            Assert.Equal(("ServiceAccount", "argohooks-caller"), (subject.Str("kind"), subject.Str("name")));
        }
    }

    [Theory]
    [InlineData("examples/seed-deferred/app")]
    [InlineData("examples/strict/app")]
    public async Task In_an_application_the_caller_binding_names_the_application_namespace(string folder)
    {
        var binding = Assert.Single(await Kustomize.RenderAsync(folder), manifest => manifest.Kind == "RoleBinding");
        Assert.Equal("self-healing-platform", binding.Namespace);
        Assert.Equal("self-healing-platform", Assert.Single(binding.Root.Maps("subjects")).Str("namespace"));
    }

    private static void AssertSubjectIsHookService(Manifest binding, string @namespace)
    {
        var subject = Assert.Single(binding.Root.Maps("subjects"));
        Assert.Equal(("ServiceAccount", "argohooks", @namespace), (subject.Str("kind"), subject.Str("name"), subject.Str("namespace")));
    }

    [Fact]
    public async Task The_continuous_overlay_watches_only_the_namespace_it_is_bound_in()
    {
        var manifests = await Kustomize.RenderAsync("overlays/continuous");
        var deployment = HookServiceDeploymentTests.HookService(manifests);
        Assert.Equal("true", HookServiceDeploymentTests.Env(deployment, "ArgoHooks__Continuous__Enabled"));
        var watch = HookServiceDeploymentTests.EnvVar(deployment, "ArgoHooks__Continuous__WatchNamespaces__0");
        Assert.Equal("metadata.namespace", watch!.At("valueFrom", "fieldRef").Str("fieldPath"));
        Assert.DoesNotContain(manifests, manifest => manifest is { Kind: "ClusterRoleBinding", Name: "argohooks" });

        var binding = Assert.Single(manifests, manifest => manifest is { Kind: "RoleBinding", Name: "argohooks-leader-election" });
        Assert.Equal(("Role", "argohooks-leader-election"), (binding.At("roleRef").Str("kind"), binding.At("roleRef").Str("name")));
        AssertSubjectIsHookService(binding, "argohooks");
        Assert.Equal("argohooks", binding.Namespace);
    }

    public static TheoryData<string> NamespacedInstalls() =>
        [.. Kustomize.AllKustomizations().Where(folder => !folder.StartsWith("job", StringComparison.Ordinal) && folder != "grant")];

    [Theory]
    [MemberData(nameof(NamespacedInstalls))]
    public async Task Every_namespaced_object_of_an_install_has_its_namespace(string folder)
    {
        string[] clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"];
        Assert.All(
            (await Kustomize.RenderAsync(folder)).Where(manifest => !clusterScoped.Contains(manifest.Kind)),
            manifest => Assert.False(string.IsNullOrEmpty(manifest.Namespace), $"{manifest} in deploy/{folder} has no namespace"));
    }
}
