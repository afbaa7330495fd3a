namespace ArgoHooks.Deploy.Tests;

/// <summary>The verification Job: `argohooks call` with a projected token of audience argohooks, as a wave-5 Sync Job or a PostSync hook.</summary>
public sealed class JobTests
{
    private static async Task<Manifest> VerifyJobAsync(string folder) =>
        Assert.Single(await Kustomize.RenderAsync(folder), manifest => manifest is { Kind: "Job", Name: "argohooks-verify-models" });

    [Theory]
    [InlineData("job")]
    [InlineData("job/sync-wave")]
    [InlineData("job/post-sync")]
    [InlineData("examples/seed-deferred/app")]
    [InlineData("examples/strict/app")]
    public async Task The_job_calls_the_service_with_an_argohooks_audience_token(string folder)
    {
        var job = await VerifyJobAsync(folder);
        var spec = job.At("spec")!;
        Assert.True(int.Parse(spec.Str("backoffLimit")!) >= 1);
        Assert.True(int.Parse(spec.Str("activeDeadlineSeconds")!) > 0);

        var pod = job.At("spec", "template", "spec")!;
        Assert.Equal("argohooks-caller", pod.Str("serviceAccountName"));
        Assert.False(pod.Bool("automountServiceAccountToken"));
        // Never: a retry is a new pod of the same Job, so it carries the same controller uid (run id).
        Assert.Equal("Never", pod.Str("restartPolicy"));
        Assert.Equal("argohooks-call", job.At("spec", "template", "metadata", "labels").Str("app.kubernetes.io/name"));

        var container = Assert.Single(pod.Maps("containers"));
        Assert.Equal("ghcr.io/argohooks/argohooks:0.1.0", container.Str("image"));
        Assert.Equal(["call", "--namespace", "$(POD_NAMESPACE)"], container.Strings("args"));
        Assert.Equal("metadata.namespace", HookServiceDeploymentTests.EnvVar(job, "POD_NAMESPACE")!.At("valueFrom", "fieldRef").Str("fieldPath"));
        Assert.Equal(
            "metadata.labels['batch.kubernetes.io/controller-uid']",
            HookServiceDeploymentTests.EnvVar(job, "ARGOHOOKS_RUN_ID")!.At("valueFrom", "fieldRef").Str("fieldPath"));
        Assert.Equal("/var/run/secrets/argohooks/token", HookServiceDeploymentTests.Env(job, "ARGOHOOKS_TOKEN_FILE"));
        Assert.StartsWith("http://argohooks.", HookServiceDeploymentTests.Env(job, "ARGOHOOKS_URL"), StringComparison.Ordinal);

        var mount = Assert.Single(container.Maps("volumeMounts"), mount => mount.Str("mountPath") == "/var/run/secrets/argohooks");
        Assert.True(mount.Bool("readOnly"));
        var volume = Assert.Single(pod.Maps("volumes"), volume => volume.Str("name") == mount.Str("name"));
        var token = Assert.Single(volume.At("projected")!.Maps("sources")).At("serviceAccountToken");
        Assert.Equal(("argohooks", "3600", "token"), (token.Str("audience"), token.Str("expirationSeconds"), token.Str("path")));
    }

    [Theory]
    [InlineData("job")]
    [InlineData("job/sync-wave")]
    public async Task The_sync_job_runs_in_wave_5_and_is_no_hook(string folder)
    {
        var job = await VerifyJobAsync(folder);
        Assert.Equal("5", job.Annotation("argocd.argoproj.io/sync-wave"));
        Assert.Null(job.Annotation("argocd.argoproj.io/hook"));
        Assert.Equal("http://argohooks.argohooks.svc:8080", HookServiceDeploymentTests.Env(job, "ARGOHOOKS_URL"));
    }

    [Fact]
    public async Task The_post_sync_variant_is_a_hook_recreated_each_sync_and_removed_on_success()
    {
        var job = await VerifyJobAsync("job/post-sync");
        Assert.Equal("PostSync", job.Annotation("argocd.argoproj.io/hook"));
        Assert.Equal(["BeforeHookCreation", "HookSucceeded"], job.Annotation("argocd.argoproj.io/hook-delete-policy")!.Split(',').Order(StringComparer.Ordinal));
        Assert.Null(job.Annotation("argocd.argoproj.io/sync-wave"));
        Assert.Equal("http://argohooks.argohooks.svc:8080", HookServiceDeploymentTests.Env(job, "ARGOHOOKS_URL"));
    }

    [Theory]
    [InlineData("job/sync-wave")]
    [InlineData("job/post-sync")]
    public async Task The_job_brings_its_own_service_account_without_the_default_token(string folder)
    {
        var account = Assert.Single(await Kustomize.RenderAsync(folder), manifest => manifest.Kind == "ServiceAccount");
        Assert.Equal("argohooks-caller", account.Name);
        Assert.Equal("false", account.Root.Str("automountServiceAccountToken"));
    }
}
