namespace ArgoHooks.Deploy.Tests;

/// <summary>The example Argo CD layouts: wave order per gate, and the pieces that must agree across Applications.</summary>
public sealed class ExampleLayoutTests
{
    private const string AppNamespace = "self-healing-platform";
    private static readonly string[] Models = ["anomaly-detector", "predictive-analytics"];

    private static int Wave(Manifest manifest) => int.Parse(manifest.Annotation("argocd.argoproj.io/sync-wave") ?? "0");

    [Theory]
    [InlineData("examples/seed-deferred/app", "deferred")]
    [InlineData("examples/strict/app", "strict")]
    public async Task The_inference_services_are_raw_pvc_models_with_the_gate(string folder, string gate)
    {
        var manifests = await Kustomize.RenderAsync(folder);
        var services = manifests.Where(manifest => manifest.Kind == "InferenceService").ToList();
        Assert.Equal(Models, services.Select(service => service.Name).Order(StringComparer.Ordinal));
        Assert.All(services, service =>
        {
            Assert.Equal(AppNamespace, service.Namespace);
            Assert.Equal(2, Wave(service));
            Assert.Equal("RawDeployment", service.Annotation("serving.kserve.io/deploymentMode"));
            Assert.Equal(gate, service.Annotation("argohooks.io/gate"));
            Assert.Equal($"pvc://model-storage-pvc/{service.Name}", service.At("spec", "predictor", "model").Str("storageUri"));
        });
        var claim = Assert.Single(manifests, manifest => manifest.Kind == "PersistentVolumeClaim");
        Assert.Equal("model-storage-pvc", claim.Name);
        Assert.True(Wave(claim) < 2);
    }

    [Fact]
    public async Task The_seed_layout_writes_models_after_the_inference_services_and_verifies_last()
    {
        var manifests = await Kustomize.RenderAsync("examples/seed-deferred/app");
        var writers = manifests.Where(manifest => manifest.Kind == "Job" && manifest.Name.StartsWith("write-model-", StringComparison.Ordinal)).ToList();
        Assert.Equal(Models.Select(model => "write-model-" + model), writers.Select(writer => writer.Name).Order(StringComparer.Ordinal));
        Assert.All(writers, writer => Assert.Equal(3, Wave(writer)));
        var verify = Assert.Single(manifests, manifest => manifest.Name == "argohooks-verify-models");
        Assert.Equal(5, Wave(verify));
        Assert.Null(verify.Annotation("argocd.argoproj.io/hook"));
    }

    [Fact]
    public async Task The_strict_layout_writes_models_first_and_verifies_in_the_inference_services_wave()
    {
        var manifests = await Kustomize.RenderAsync("examples/strict/app");
        var writers = manifests.Where(manifest => manifest.Kind == "Job" && manifest.Name.StartsWith("write-model-", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, writers.Count);
        Assert.All(writers, writer => Assert.Equal(1, Wave(writer)));
        var verify = Assert.Single(manifests, manifest => manifest.Name == "argohooks-verify-models");
        // A strict InferenceService stays Progressing until verified, so a later wave or a PostSync
        // hook would never start: the verification must share the InferenceServices' wave. As a
        // Sync hook it is waited for even in the last wave, and re-runs on every sync.
        Assert.Equal(2, Wave(verify));
        Assert.Equal("Sync", verify.Annotation("argocd.argoproj.io/hook"));
        Assert.Contains("BeforeHookCreation", verify.Annotation("argocd.argoproj.io/hook-delete-policy"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("examples/seed-deferred/app")]
    [InlineData("examples/strict/app")]
    public async Task The_writers_write_where_the_storage_uri_points(string folder)
    {
        var manifests = await Kustomize.RenderAsync(folder);
        foreach (var model in Models)
        {
            var writer = Assert.Single(manifests, manifest => manifest.Name == "write-model-" + model);
            var pod = writer.At("spec", "template", "spec")!;
            var container = Assert.Single(pod.Maps("containers"));
            var mount = Assert.Single(container.Maps("volumeMounts"), mount => mount.Str("mountPath") == "/mnt/pvc/model-storage-pvc");
            Assert.Equal("model-storage-pvc", Assert.Single(pod.Maps("volumes"), volume => volume.Str("name") == mount.Str("name")).At("persistentVolumeClaim").Str("claimName"));
            Assert.Contains($"/mnt/pvc/model-storage-pvc/{model}", string.Join('\n', container.Strings("args")), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("examples/seed-deferred/app")]
    [InlineData("examples/strict/app")]
    public async Task The_job_reaches_the_colocated_hook_service_through_its_network_policy(string folder)
    {
        var app = await Kustomize.RenderAsync(folder);
        var hookService = await Kustomize.RenderAsync("examples/seed-deferred/hook-service");

        var service = Assert.Single(hookService, manifest => manifest.Kind == "Service");
        var port = Assert.Single(service.At("spec")!.Maps("ports")).Str("port");
        var verify = Assert.Single(app, manifest => manifest.Name == "argohooks-verify-models");
        Assert.Equal($"http://{service.Name}.{service.Namespace}.svc:{port}", HookServiceDeploymentTests.Env(verify, "ARGOHOOKS_URL"));

        // The hook service mounts the claim the InferenceServices use: same name, same namespace.
        var deployment = HookServiceDeploymentTests.HookService(hookService);
        var claim = Assert.Single(app, manifest => manifest.Kind == "PersistentVolumeClaim");
        Assert.Equal(claim.Namespace, deployment.Namespace);
        Assert.Contains(deployment.At("spec", "template", "spec")!.Maps("volumes"), volume => volume.At("persistentVolumeClaim").Str("claimName") == claim.Name);

        // The NetworkPolicy's caller rule matches the namespace's labels and the Job's pod labels.
        var policy = Assert.Single(hookService, manifest => manifest.Kind == "NetworkPolicy");
        var from = Assert.Single(policy.At("spec")!.Maps("ingress")[0].Maps("from"));
        var @namespace = Assert.Single(hookService, manifest => manifest.Kind == "Namespace");
        Assert.Equal(verify.Namespace, @namespace.Name);
        foreach (var (key, value) in from.At("namespaceSelector", "matchLabels")!.Children)
        {
            Assert.Equal(value.ToString(), @namespace.Label(key.ToString()));
        }

        foreach (var (key, value) in from.At("podSelector", "matchLabels")!.Children)
        {
            Assert.Equal(value.ToString(), verify.At("spec", "template", "metadata", "labels").Str(key.ToString()));
        }
    }

    [Theory]
    [InlineData("deploy/examples/seed-deferred/applications.yaml")]
    [InlineData("deploy/examples/strict/applications.yaml")]
    public void The_applications_point_at_kustomizations_of_this_repository(string file)
    {
        var applications = Kustomize.Parse(File.ReadAllText(RepositoryPaths.Combine(file)));
        Assert.Equal(2, applications.Count);
        Assert.All(applications, application =>
        {
            Assert.Equal(("argoproj.io/v1alpha1", "Application"), (application.ApiVersion, application.Kind));
            var path = application.At("spec", "source").Str("path")!;
            Assert.True(File.Exists(RepositoryPaths.Combine(path, "kustomization.yaml")), $"{application} points at {path}, which has no kustomization.yaml");
            Assert.Equal(AppNamespace, application.At("spec", "destination").Str("namespace"));
        });
    }

    [Fact]
    public void Every_deploy_path_the_install_guide_names_exists()
    {
        var guide = File.ReadAllText(RepositoryPaths.Combine("docs", "install.md"));
        var paths = System.Text.RegularExpressions.Regex.Matches(guide, @"(?<![\w/.])(deploy|argocd-cm)/[A-Za-z0-9_./-]*[A-Za-z0-9_-]")
            .Select(match => match.Value)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        Assert.True(paths.Count > 10, "the guide names the deploy folders");
        Assert.All(paths, path => Assert.True(
            Directory.Exists(RepositoryPaths.Combine(path)) || File.Exists(RepositoryPaths.Combine(path)),
            $"docs/install.md names {path}, which does not exist"));
    }
}
