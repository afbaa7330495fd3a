using static ArgoHooks.SyncLayout.Tests.Manifests;

namespace ArgoHooks.SyncLayout.Tests;

/// <summary>Each rule on small layouts: the rule fires where Argo CD would misbehave and stays quiet otherwise.</summary>
public class RulesTests
{
    private static readonly (string, string?) PostSyncHook = ("argocd.argoproj.io/hook", "PostSync");

    private static IReadOnlyList<Finding> Tokens(string job) => Rules.VerificationTokens(Layout(job), new CheckOptions()).ToList();

    private static IReadOnlyList<string> RulesOf(IEnumerable<Finding> findings, Severity? severity = null) =>
        findings.Where(finding => severity is null || finding.Severity == severity).Select(finding => finding.Rule).ToList();

    [Fact]
    public void Strict_with_the_writer_in_a_later_wave_deadlocks()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "3"), Verifier(wave: "2"));
        var deadlock = Assert.Single(findings, finding => finding.Severity == Severity.Error);
        Assert.Equal(("deadlock-writer", "InferenceService/a"), (deadlock.Rule, deadlock.Resource.Display));
        Assert.Contains("Job/write-a", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("wave 3", deadlock.Message, StringComparison.Ordinal);
        Assert.Contains("wave 2", deadlock.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void Strict_with_the_writer_in_an_earlier_or_the_same_wave_and_the_verifier_alongside_is_fine(string writerWave)
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: writerWave), Verifier(wave: "2"), Writer("later-app", wave: "4", claim: "logs"));
        Assert.Empty(RulesOf(findings, Severity.Error));
        Assert.Empty(RulesOf(findings, Severity.Warning));
    }

    [Fact]
    public void Strict_with_the_writer_as_PostSync_hook_deadlocks_and_as_helm_pre_install_hook_does_not()
    {
        var postSync = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: null, extra: PostSyncHook), Verifier(wave: "2"));
        Assert.Equal(["deadlock-writer"], RulesOf(postSync, Severity.Error));
        Assert.Contains("the PostSync phase", postSync.Single(finding => finding.Severity == Severity.Error).Message, StringComparison.Ordinal);

        var preInstall = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: null, extra: [("helm.sh/hook", "pre-install"), ("helm.sh/hook-weight", "5")]), Verifier(wave: "2"));
        Assert.Empty(RulesOf(preInstall, Severity.Error));
    }

    [Fact]
    public void Helm_post_install_hooks_are_PostSync()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: null, extra: ("helm.sh/hook", "post-install,post-upgrade")), Verifier(wave: "2"));
        Assert.Equal(["deadlock-writer"], RulesOf(findings, Severity.Error));
    }

    [Fact]
    public void Strict_with_the_verification_Job_in_a_later_wave_or_PostSync_deadlocks()
    {
        Assert.Equal(["deadlock-verifier"], RulesOf(Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "1"), Verifier(wave: "5")), Severity.Error));
        var postSync = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "1"), Verifier(wave: null, extra: PostSyncHook));
        Assert.Equal(["deadlock-verifier"], RulesOf(postSync, Severity.Error));
    }

    [Fact]
    public void Strict_without_any_verification_Job_deadlocks_unless_continuous_mode_verifies_it()
    {
        Assert.Equal(["deadlock-no-verifier"], RulesOf(Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "1"), Writer("app", wave: "3", claim: "x")), Severity.Error));

        var continuous = Check(InferenceService("a", gate: "strict", extra: ("argohooks.io/verify", "continuous")), Writer("write-a", wave: "1"));
        Assert.Empty(RulesOf(continuous, Severity.Error));
        Assert.Contains("continuous", RulesOf(continuous, Severity.Info));
    }

    [Fact]
    public void Strict_with_the_verification_Job_before_the_InferenceService_exists_is_an_error()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "0"), Verifier(wave: "1"));
        Assert.Equal(["strict-verifier-too-early"], RulesOf(findings, Severity.Error));
    }

    [Fact]
    public void Deferred_with_the_writer_in_a_later_wave_is_the_seed_layout_and_fine()
    {
        var findings = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: "5"));
        Assert.Empty(RulesOf(findings, Severity.Error));
        Assert.Empty(RulesOf(findings, Severity.Warning));
        Assert.DoesNotContain("could-be-strict", RulesOf(findings));
    }

    [Fact]
    public void Deferred_with_every_writer_earlier_suggests_strict()
    {
        var alongside = Check(InferenceService("a"), Writer("write-a", wave: "1"), Verifier(wave: "2"), Writer("app", wave: "3", claim: "x"));
        var suggestion = Assert.Single(alongside, finding => finding.Rule == "could-be-strict");
        Assert.Equal(Severity.Info, suggestion.Severity);
        Assert.DoesNotContain("run the verification Job", suggestion.Message, StringComparison.Ordinal);

        var verifierLater = Check(InferenceService("a"), Writer("write-a", wave: "1"), Verifier(wave: "5"));
        Assert.Contains("run the verification Job in wave 2", Assert.Single(verifierLater, finding => finding.Rule == "could-be-strict").Message, StringComparison.Ordinal);

        var oneWriterLater = Check(InferenceService("a"), Writer("write-a", wave: "1"), Writer("write-a-again", wave: "4"), Verifier(wave: "5"));
        Assert.DoesNotContain("could-be-strict", RulesOf(oneWriterLater));
    }

    [Fact]
    public void Deferred_without_a_verification_Job_warns()
    {
        var findings = Check(InferenceService("a"), Writer("write-a", wave: "3"));
        Assert.Equal(["verifier-missing"], RulesOf(findings, Severity.Warning));
        Assert.Empty(RulesOf(findings, Severity.Error));
    }

    [Theory]
    [InlineData("3", "together with")]
    [InlineData("2", "before")]
    public void Deferred_with_the_verification_Job_not_after_the_writers_warns(string verifierWave, string relation)
    {
        var findings = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: verifierWave));
        var warning = Assert.Single(findings, finding => finding.Severity == Severity.Warning);
        Assert.Equal(("verifier-before-writer", "Job/argohooks-verify-models"), (warning.Rule, warning.Resource.Display));
        Assert.Contains(relation + " Job/write-a (wave 3)", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deferred_with_the_verification_Job_before_the_InferenceService_warns()
    {
        var findings = Check(InferenceService("a", wave: "4"), Writer("write-a", wave: "5"), Verifier(wave: "1"));
        Assert.Equal(["verifier-before-service"], RulesOf(findings, Severity.Warning));
    }

    [Fact]
    public void Deferred_with_a_PostSync_verification_Job_is_fine_and_awaited()
    {
        var findings = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: null, extra: PostSyncHook));
        Assert.Empty(RulesOf(findings, Severity.Error));
        Assert.Empty(RulesOf(findings, Severity.Warning));
        Assert.DoesNotContain("verifier-not-awaited", RulesOf(findings));
    }

    [Fact]
    public void A_verification_Job_in_the_last_wave_without_hooks_is_not_awaited()
    {
        var last = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: "5"));
        var info = Assert.Single(last, finding => finding.Rule == "verifier-not-awaited");
        Assert.Contains("PostSync", info.Message, StringComparison.Ordinal);

        var laterWave = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: "5"), Writer("app", wave: "6", claim: "x"));
        Assert.DoesNotContain("verifier-not-awaited", RulesOf(laterWave));

        var hookInLastWave = Check(InferenceService("a"), Writer("write-a", wave: "3"), Verifier(wave: "5"), Writer("smoke-test", wave: "5", claim: "x", extra: ("argocd.argoproj.io/hook", "Sync")));
        Assert.DoesNotContain("verifier-not-awaited", RulesOf(hookInLastWave));
    }

    [Fact]
    public void For_strict_the_not_awaited_advice_is_a_Sync_hook_never_PostSync()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "1"), Verifier(wave: "2"));
        var info = Assert.Single(findings, finding => finding.Rule == "verifier-not-awaited");
        Assert.Contains("argocd.argoproj.io/hook: Sync", info.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("PostSync", info.Message, StringComparison.Ordinal);
        Assert.Contains("strict-not-awaited", RulesOf(findings, Severity.Info));
    }

    [Fact]
    public void Multiple_claims_are_checked_independently()
    {
        var findings = Check(
            InferenceService("a", gate: "strict", storageUri: "pvc://claim-a/a"),
            InferenceService("b", gate: "strict", storageUri: "pvc://claim-b/b"),
            Writer("write-a", wave: "3", claim: "claim-a"),
            Writer("write-b", wave: "1", claim: "claim-b"),
            Verifier(wave: "2"));
        var deadlock = Assert.Single(findings, finding => finding.Severity == Severity.Error);
        Assert.Equal(("deadlock-writer", "InferenceService/a"), (deadlock.Rule, deadlock.Resource.Display));
        Assert.Contains("claim claim-a", deadlock.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_gate_warns_and_counts_as_deferred()
    {
        var findings = Check(InferenceService("a", gate: "Strict"), Writer("write-a", wave: "3"), Verifier(wave: "5"));
        Assert.Equal(["unknown-gate"], RulesOf(findings, Severity.Warning));
        Assert.Empty(RulesOf(findings, Severity.Error));
    }

    [Fact]
    public void An_invalid_sync_wave_warns_with_the_wave_Argo_CD_uses_instead()
    {
        var findings = Check(InferenceService("a", wave: "two"), Writer("write-a", wave: "3"), Verifier(wave: "5"));
        var warning = Assert.Single(findings, finding => finding.Rule == "invalid-sync-wave");
        Assert.Contains("\"two\"", warning.Message, StringComparison.Ordinal);
        Assert.Contains("wave 0", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_skipped_InferenceService_or_writer_is_reported_and_not_counted()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "3", extra: ("argocd.argoproj.io/hook", "Skip")), Verifier(wave: "2"));
        Assert.Equal(["not-applied"], RulesOf(findings, Severity.Warning));
        Assert.Empty(RulesOf(findings, Severity.Error));
        Assert.Contains("no-writer", RulesOf(findings, Severity.Info));
    }

    [Fact]
    public void ModelMesh_InferenceServices_are_not_gated()
    {
        var findings = Check(InferenceService("a", gate: "strict", extra: ("serving.kserve.io/deploymentMode", "ModelMesh")), Writer("write-a", wave: "3"));
        Assert.Equal(["model-mesh"], RulesOf(findings));
    }

    [Fact]
    public void A_model_nobody_writes_in_this_sync_is_noted()
    {
        Assert.Contains("no-writer", RulesOf(Check(InferenceService("a"), Verifier(wave: "5")), Severity.Info));
    }

    [Fact]
    public void A_verification_Job_without_a_projected_token_is_an_error()
    {
        var finding = Assert.Single(Tokens(Verifier(withToken: false)));
        Assert.Equal((Severity.Error, "token-missing"), (finding.Severity, finding.Rule));
    }

    [Theory]
    [InlineData("kubernetes")]
    [InlineData(null)]
    public void A_token_for_another_audience_is_an_error(string? audience)
    {
        var finding = Assert.Single(Tokens(Verifier(audience: audience)));
        Assert.Equal((Severity.Error, "token-audience"), (finding.Severity, finding.Rule));
        Assert.Contains(audience ?? "the API server's", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_audience_is_configurable()
    {
        var layout = Layout(Verifier(audience: "hooks.example.com"));
        Assert.Empty(Rules.VerificationTokens(layout, new CheckOptions("hooks.example.com")));
        Assert.Equal(["token-audience"], RulesOf(Rules.VerificationTokens(layout, new CheckOptions())));
    }

    [Fact]
    public void A_token_mounted_where_call_does_not_read_it_is_an_error()
    {
        var finding = Assert.Single(Tokens(Verifier(tokenMountPath: "/var/run/secrets/tokens")));
        Assert.Equal((Severity.Error, "token-not-mounted"), (finding.Severity, finding.Rule));
        Assert.Contains("/var/run/secrets/tokens/token", finding.Message, StringComparison.Ordinal);
        Assert.Contains("/var/run/secrets/argohooks/token", finding.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_mounted_elsewhere_is_fine_when_ARGOHOOKS_TOKEN_FILE_points_there()
    {
        var job = Verifier(tokenMountPath: "/var/run/secrets/tokens", env: "    env:\n      - name: ARGOHOOKS_TOKEN_FILE\n        value: /var/run/secrets/tokens/token\n");
        Assert.Empty(Tokens(job));
    }

    [Fact]
    public void A_token_path_from_a_reference_is_not_guessed()
    {
        var job = Verifier(env: "    env:\n      - name: ARGOHOOKS_TOKEN_FILE\n        valueFrom:\n          configMapKeyRef: {name: c, key: k}\n");
        Assert.Equal(["token-file-unknown"], RulesOf(Tokens(job)));
    }

    private static string HookService(string @namespace = "ml", string mountPath = "/mnt/pvc/models", string env = "", string args = "[\"serve\"]") =>
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argohooks\n" + $"  namespace: {@namespace}\n" +
        "spec:\n  template:\n    spec:\n" + Indent(
            "containers:\n" +
            "  - name: argohooks\n" +
            "    image: ghcr.io/argohooks/argohooks:0.1.0\n" +
            $"    args: {args}\n" + env +
            "    volumeMounts:\n" +
            $"      - {{name: models, mountPath: {mountPath}, readOnly: true}}\n" +
            "volumes:\n" +
            "  - {name: models, persistentVolumeClaim: {claimName: models, readOnly: true}}\n", 6);

    [Fact]
    public void The_hook_service_in_the_render_must_mount_each_model_claim_where_it_looks()
    {
        Assert.Empty(Rules.HookServiceClaimMounts(Layout(InferenceService("a"), HookService())));

        var elsewhere = Assert.Single(Rules.HookServiceClaimMounts(Layout(InferenceService("a"), InferenceService("b"), HookService(mountPath: "/data/models"))));
        Assert.Equal((Severity.Warning, "service-claim-not-mounted", "Deployment/argohooks"), (elsewhere.Severity, elsewhere.Rule, elsewhere.Resource.Display));
        Assert.Contains("InferenceService/a and InferenceService/b in /mnt/pvc/models", elsewhere.Message, StringComparison.Ordinal);

        var rooted = HookService(mountPath: "/data/models", env: "    env:\n      - {name: ArgoHooks__Artifacts__ClaimsRoot, value: /data/}\n");
        Assert.Empty(Rules.HookServiceClaimMounts(Layout(InferenceService("a"), rooted)));

        var overridden = HookService(mountPath: "/models", env: "    env:\n      - {name: ArgoHooks__Artifacts__Claims__models, value: /models}\n");
        Assert.Empty(Rules.HookServiceClaimMounts(Layout(InferenceService("a"), overridden)));

        Assert.Empty(Rules.HookServiceClaimMounts(Layout(InferenceService("a"), HookService(@namespace: "argohooks", mountPath: "/elsewhere"))));
        Assert.Empty(Layout(HookService(args: "[\"call\", \"-n\", \"ml\"]")).HookServices);
        Assert.Single(Layout(HookService(args: "[]")).HookServices);
    }

    [Fact]
    public void Findings_are_ordered_errors_first()
    {
        var findings = Check(InferenceService("a", gate: "strict"), Writer("write-a", wave: "3"), Verifier(wave: "5", withToken: false));
        Assert.Equal(findings.OrderByDescending(finding => finding.Severity).Select(finding => finding.Severity), findings.Select(finding => finding.Severity));
        Assert.Equal(Severity.Error, findings[0].Severity);
    }
}
