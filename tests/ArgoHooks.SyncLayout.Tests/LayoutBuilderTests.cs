using static ArgoHooks.SyncLayout.Tests.Manifests;

namespace ArgoHooks.SyncLayout.Tests;

public class LayoutBuilderTests
{
    [Fact]
    public void An_InferenceService_with_a_pvc_storageUri_is_a_model_service_with_its_claim_path_gate_and_step()
    {
        var service = Assert.Single(Layout(InferenceService("a", wave: "2", gate: "strict", storageUri: "pvc://claim-1/models/a")).InferenceServices);
        Assert.Equal(("claim-1", "models/a", Gate.Strict, "strict"), (service.Claim, service.ModelPath, service.Gate, service.GateText));
        Assert.Equal(new SyncStep(SyncPhase.Sync, 2), service.Step);
        Assert.Equal("ml", service.Resource.Namespace);
    }

    [Theory]
    [InlineData(null, Gate.Deferred)]
    [InlineData("deferred", Gate.Deferred)]
    [InlineData("strict", Gate.Strict)]
    [InlineData("Strict", Gate.Unknown)]
    public void Gate_defaults_to_deferred_and_is_case_sensitive_like_the_health_script(string? annotation, Gate gate) =>
        Assert.Equal(gate, Assert.Single(Layout(InferenceService("a", gate: annotation)).InferenceServices).Gate);

    [Theory]
    [InlineData("s3://bucket/model")]
    [InlineData("gs://bucket/model")]
    [InlineData("hf://org/model")]
    public void Non_pvc_storageUris_are_ignored(string storageUri) =>
        Assert.Empty(Layout(InferenceService("a", storageUri: storageUri)).InferenceServices);

    [Fact]
    public void The_framework_style_storageUri_counts_too()
    {
        const string yaml = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: old\nspec:\n  predictor:\n    sklearn:\n      storageUri: pvc://legacy/old\n";
        Assert.Equal("legacy", Assert.Single(Layout(yaml).InferenceServices).Claim);
    }

    [Theory]
    [InlineData("Job")]
    [InlineData("Deployment")]
    [InlineData("StatefulSet")]
    [InlineData("DaemonSet")]
    [InlineData("Pod")]
    public void A_pod_template_that_mounts_the_claim_writable_writes_it(string kind)
    {
        var layout = Layout(InferenceService("a"), Writer("writer", kind: kind));
        var service = layout.InferenceServices.Single();
        Assert.Equal(kind, Assert.Single(layout.WritersOf(service)).Resource.Kind);
    }

    [Fact]
    public void Read_only_mounts_read_only_claims_CronJobs_other_claims_and_other_namespaces_do_not_write_it()
    {
        var otherNamespace = Writer("elsewhere").Replace("namespace: ml", "namespace: other", StringComparison.Ordinal);
        var layout = Layout(
            InferenceService("a"),
            Writer("mount-read-only", readOnlyMount: true),
            Writer("claim-read-only", readOnlyClaim: true),
            Writer("scheduled", kind: "CronJob"),
            Writer("other-claim", claim: "other"),
            otherNamespace);
        Assert.Empty(layout.WritersOf(layout.InferenceServices.Single()));
        Assert.Equal(["mount-read-only", "claim-read-only", "other-claim", "elsewhere"], layout.Workloads.Select(workload => workload.Resource.Name));
        Assert.Contains(layout.Workloads[0].ClaimMounts, mount => mount is { Claim: "models", Writable: false });
    }

    [Fact]
    public void A_writer_without_a_namespace_lands_in_the_applications_namespace_and_counts()
    {
        var layout = Layout(InferenceService("a"), Writer("writer").Replace("  namespace: ml\n", "", StringComparison.Ordinal));
        Assert.Single(layout.WritersOf(layout.InferenceServices.Single()));
    }

    [Fact]
    public void An_init_container_can_write_the_model()
    {
        var layout = Layout(InferenceService("a"), Writer("writer", inInitContainer: true));
        Assert.Equal("train", Assert.Single(Assert.Single(layout.Workloads).ClaimMounts).Container);
        Assert.Single(layout.WritersOf(layout.InferenceServices.Single()));
    }

    [Fact]
    public void The_deploy_job_is_recognised_as_verification_Job_for_every_InferenceService_of_its_namespace()
    {
        var job = Assert.Single(Layout(Verifier()).VerificationJobs);
        Assert.Equal(("call", "ml", 0), (job.Container, job.TargetNamespace, job.InferenceServices.Count));
        Assert.Equal("/var/run/secrets/argohooks/token", job.TokenFile);
        var token = Assert.Single(job.Tokens);
        Assert.Equal(("argohooks", "token"), (token.Audience, token.Path));
        Assert.Equal(["/var/run/secrets/argohooks/token"], token.FilesInContainer);
    }

    [Theory]
    [InlineData("ghcr.io/argohooks/argohooks:0.1.0", null, "[\"call\", \"-n\", \"ml\", \"-i\", \"a\", \"--inference-service=b\"]", true)]
    [InlineData("registry.local:5000/argohooks@sha256:0123", null, "[\"call\", \"--namespace\", \"ml\"]", true)]
    [InlineData("example.com/tools:1", "[\"/app/argohooks\"]", "[\"call\", \"--namespace\", \"ml\"]", true)]
    [InlineData("example.com/tools:1", "[\"/bin/sh\", \"-c\"]", "[\"sleep 5 && argohooks call --namespace ml -i a; echo done\"]", true)]
    [InlineData("example.com/tools:1", "[\"dotnet\", \"/app/argohooks.dll\", \"call\"]", "[\"--namespace\", \"ml\"]", true)]
    [InlineData("ghcr.io/argohooks/argohooks:0.1.0", null, "[\"serve\"]", false)]
    [InlineData("ghcr.io/argohooks/argohooks:0.1.0", null, "[\"install-artifacts\", \"--check\"]", false)]
    [InlineData("example.com/call:1", null, "[\"call\", \"--namespace\", \"ml\"]", false)]
    [InlineData("example.com/argohooks-tools/python:3", "[\"python\"]", "[\"call.py\"]", false)]
    public void A_Job_is_a_verification_Job_when_it_runs_argohooks_call(string image, string? command, string args, bool expected)
    {
        var jobs = Layout(Verifier(image: image, command: command, args: args)).VerificationJobs;
        Assert.Equal(expected, jobs.Count == 1);
    }

    [Fact]
    public void Names_and_namespace_passed_to_call_decide_what_the_Job_verifies()
    {
        var job = Assert.Single(Layout(Verifier(args: "[\"call\", \"-n\", \"ml\", \"-i\", \"a\", \"--inference-service=b\"]")).VerificationJobs);
        Assert.Equal(["a", "b"], job.InferenceServices);

        var layout = Layout(InferenceService("a"), InferenceService("c"), Verifier(args: "[\"call\", \"-n\", \"ml\", \"-i\", \"a\"]"));
        Assert.Single(layout.VerifiersOf(layout.InferenceServices[0]));
        Assert.Empty(layout.VerifiersOf(layout.InferenceServices[1]));

        var script = Layout(Verifier(image: "example.com/tools:1", command: "[\"/bin/sh\", \"-c\"]", args: "[\"argohooks call -n ml -i a; argohooks call -n ml -i b\"]"));
        Assert.Equal(["a"], Assert.Single(script.VerificationJobs).InferenceServices);

        var otherNamespace = Layout(InferenceService("a"), Verifier(args: "[\"call\", \"--namespace\", \"elsewhere\"]"));
        Assert.Empty(otherNamespace.VerifiersOf(otherNamespace.InferenceServices[0]));
    }

    [Fact]
    public void Token_file_comes_from_token_file_option_then_env_then_the_default()
    {
        var fromEnv = Verifier(env: "    env:\n      - name: ARGOHOOKS_TOKEN_FILE\n        value: /tokens/argohooks\n");
        Assert.Equal(("/tokens/argohooks", "ARGOHOOKS_TOKEN_FILE"), Token(fromEnv));

        var fromOption = Verifier(env: "    env:\n      - name: ARGOHOOKS_TOKEN_FILE\n        value: /tokens/argohooks\n",
            args: "[\"call\", \"--namespace\", \"ml\", \"--token-file\", \"/other/token\"]");
        Assert.Equal(("/other/token", "--token-file"), Token(fromOption));

        var fromReference = Verifier(env: "    env:\n      - name: ARGOHOOKS_TOKEN_FILE\n        valueFrom:\n          configMapKeyRef: {name: c, key: k}\n");
        Assert.Equal((null, "ARGOHOOKS_TOKEN_FILE"), Token(fromReference));

        static (string?, string) Token(string job)
        {
            var verifier = Layout(job).VerificationJobs.Single();
            return (verifier.TokenFile, verifier.TokenFileOrigin);
        }
    }

    [Fact]
    public void A_subPath_mount_of_the_token_puts_the_file_at_the_mount_path()
    {
        var job = Verifier(tokenMountPath: "/var/run/secrets/argohooks/token", tokenSubPath: "token");
        Assert.Equal(["/var/run/secrets/argohooks/token"], Layout(job).VerificationJobs.Single().Tokens.Single().FilesInContainer);
    }
}
