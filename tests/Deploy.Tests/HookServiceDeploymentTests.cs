using YamlDotNet.RepresentationModel;

namespace ArgoHooks.Deploy.Tests;

/// <summary>The hook service's Deployment, Service and NetworkPolicy follow the conventions.</summary>
public sealed class HookServiceDeploymentTests
{
    internal static Manifest HookService(IEnumerable<Manifest> manifests) =>
        Assert.Single(manifests, manifest => manifest is { Kind: "Deployment", Name: "argohooks" });

    internal static YamlMappingNode Container(Manifest deployment) =>
        Assert.Single(deployment.At("spec", "template", "spec").Maps("containers"));

    internal static YamlMappingNode? EnvVar(Manifest workload, string name) =>
        workload.At("spec", "template", "spec").Maps("containers")[0].Maps("env").SingleOrDefault(variable => variable.Str("name") == name);

    internal static string? Env(Manifest workload, string name) => EnvVar(workload, name)?.Str("value");

    [Fact]
    public async Task The_deployment_runs_the_image_with_probes_on_the_http_port()
    {
        var deployment = HookService(await Kustomize.RenderAsync("base"));
        Assert.Equal("argohooks", deployment.Namespace);
        var pod = deployment.At("spec", "template", "spec")!;
        Assert.Equal("argohooks", pod.Str("serviceAccountName"));
        Assert.True(pod.Bool("automountServiceAccountToken"));

        var container = Container(deployment);
        Assert.Equal("ghcr.io/argohooks/argohooks:0.1.0", container.Str("image"));
        var port = Assert.Single(container.Maps("ports"));
        Assert.Equal(("http", "8080"), (port.Str("name"), port.Str("containerPort")));
        Assert.Equal(("/healthz", "http"), (container.At("livenessProbe", "httpGet").Str("path"), container.At("livenessProbe", "httpGet").Str("port")));
        Assert.Equal(("/readyz", "http"), (container.At("readinessProbe", "httpGet").Str("path"), container.At("readinessProbe", "httpGet").Str("port")));
        Assert.Equal("8080", Env(deployment, "ASPNETCORE_HTTP_PORTS"));
        Assert.Equal("/mnt/pvc", Env(deployment, "ArgoHooks__Artifacts__ClaimsRoot"));
        Assert.Equal("argohooks", Env(deployment, "ArgoHooks__Security__Audience"));
        Assert.Equal("true", Env(deployment, "ArgoHooks__Security__Enabled"));
        Assert.All(
            container.Maps("env").Select(variable => variable.Str("name")!).Where(name => name.Contains("__", StringComparison.Ordinal)),
            name => Assert.StartsWith("ArgoHooks__", name, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_model_claim_is_mounted_read_only_under_the_claims_root()
    {
        var deployment = HookService(await Kustomize.RenderAsync("base"));
        var mount = Assert.Single(Container(deployment).Maps("volumeMounts"), mount => mount.Str("mountPath") == "/mnt/pvc/model-storage-pvc");
        Assert.True(mount.Bool("readOnly"));
        var volume = Assert.Single(deployment.At("spec", "template", "spec").Maps("volumes"), volume => volume.Str("name") == mount.Str("name"));
        Assert.Equal("model-storage-pvc", volume.At("persistentVolumeClaim").Str("claimName"));
        Assert.True(volume.At("persistentVolumeClaim").Bool("readOnly"));

        var tmp = Assert.Single(deployment.At("spec", "template", "spec").Maps("volumes"), volume => volume.Str("name") == "tmp");
        Assert.True(tmp.Has("emptyDir"));
        // Every other mount is read-only too: the service writes nowhere but /tmp.
        Assert.All(Container(deployment).Maps("volumeMounts").Where(mount => mount.Str("mountPath") != "/tmp"), mount => Assert.True(mount.Bool("readOnly")));
    }

    [Fact]
    public async Task The_service_exposes_port_8080_to_the_deployment_pods()
    {
        var manifests = await Kustomize.RenderAsync("base");
        var service = Assert.Single(manifests, manifest => manifest.Kind == "Service");
        Assert.Equal("argohooks", service.Name);
        Assert.Equal("ClientIP", service.At("spec").Str("sessionAffinity"));
        var port = Assert.Single(service.At("spec")!.Maps("ports"));
        Assert.Equal(("8080", "http"), (port.Str("port"), port.Str("targetPort")));
        var podLabels = HookService(manifests).At("spec", "template", "metadata", "labels")!;
        foreach (var (key, value) in service.At("spec", "selector")!.Children)
        {
            Assert.Equal(((YamlScalarNode)value).Value, podLabels.Str(((YamlScalarNode)key).Value!));
        }
    }

    [Fact]
    public async Task The_network_policy_admits_callers_and_monitoring_on_8080_and_limits_egress()
    {
        var manifests = await Kustomize.RenderAsync("base");
        var policy = Assert.Single(manifests, manifest => manifest.Kind == "NetworkPolicy");
        var spec = policy.At("spec")!;
        Assert.Equal(["Ingress", "Egress"], spec.Strings("policyTypes"));
        Assert.Equal("hook-service", spec.At("podSelector", "matchLabels").Str("app.kubernetes.io/component"));

        var ingress = spec.Maps("ingress");
        Assert.Equal(2, ingress.Count);
        Assert.All(ingress, rule => Assert.Equal(["8080"], rule.Maps("ports").Select(port => port.Str("port")!)));
        var callers = Assert.Single(ingress[0].Maps("from"));
        Assert.Equal("true", callers.At("namespaceSelector", "matchLabels").Str("argohooks.io/callers"));
        Assert.Equal("argohooks-call", callers.At("podSelector", "matchLabels").Str("app.kubernetes.io/name"));

        var egressPorts = spec.Maps("egress").SelectMany(rule => rule.Maps("ports")).Select(port => port.Str("port")).ToHashSet();
        Assert.Equal(new HashSet<string?> { "53", "5353", "443", "6443", "8080" }, egressPorts);
        var predictors = Assert.Single(spec.Maps("egress"), rule => rule.Maps("ports").Any(port => port.Str("port") == "8080"));
        Assert.Equal("predictor", Assert.Single(predictors.Maps("to")).At("podSelector", "matchLabels").Str("component"));
    }
}
