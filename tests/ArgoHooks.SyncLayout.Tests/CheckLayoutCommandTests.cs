using System.Diagnostics;
using System.Text.Json.Nodes;

namespace ArgoHooks.SyncLayout.Tests;

/// <summary>`argohooks check-layout` end to end on the fixtures in testdata: exit code, table, JSON, input errors.</summary>
public class CheckLayoutCommandTests
{
    private static string Fixture(string name) => File.ReadAllText(Cli.TestData(name));

    private static async Task<JsonObject> JsonAsync(string fixture, int expectedExitCode, params string[] extraArgs)
    {
        var result = await Cli.RunAsync(["--output", "json", Cli.TestData(fixture), .. extraArgs]);
        Assert.True(result.ExitCode == expectedExitCode, $"exit {result.ExitCode}\n{result.Output}{result.Error}");
        return JsonNode.Parse(result.Output)!.AsObject();
    }

    private static List<string> Rules(JsonObject report, string? severity = null) =>
        report["findings"]!.AsArray()
            .Where(finding => severity is null || (string?)finding!["severity"] == severity)
            .Select(finding => (string)finding!["rule"]!).ToList();

    [Fact]
    public async Task The_seed_layout_is_ok_with_the_deferred_gate()
    {
        var result = await Cli.RunAsync([Cli.TestData("seed-deferred.rendered.yaml")]);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Empty(result.Error);
        Assert.StartsWith("OK: 2 InferenceService(s) checked; 0 error(s), 0 warning(s)", result.Output.Split('\n').Last(line => line.Length > 0), StringComparison.Ordinal);
        Assert.Contains("InferenceService/anomaly-detector      wave 2  deferred  model-storage-pvc  Job/write-model-anomaly-detector (wave 3);", result.Output, StringComparison.Ordinal);
        Assert.Contains("Job/argohooks-verify-models (wave 5)", result.Output, StringComparison.Ordinal);
        Assert.Contains("verifier-not-awaited", (await Cli.RunAsync(["-o", "json", Cli.TestData("seed-deferred.rendered.yaml")])).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_seed_layout_with_the_strict_gate_deadlocks()
    {
        var seed = Fixture("seed-deferred.rendered.yaml");
        var strict = seed.Replace("argohooks.io/gate: deferred", "argohooks.io/gate: strict", StringComparison.Ordinal);
        Assert.Equal(2, (seed.Length - seed.Replace("argohooks.io/gate: deferred", "", StringComparison.Ordinal).Length) / "argohooks.io/gate: deferred".Length);

        var result = await Cli.RunAsync(["-"], strict);
        Assert.Equal(1, result.ExitCode);
        var errors = result.Output.Split('\n').Where(line => line.StartsWith("error", StringComparison.Ordinal)).ToList();
        // Per InferenceService: the writers in wave 3, and the verification Job in wave 5, come after wave 2.
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, line => line.Contains("InferenceService/anomaly-detector", StringComparison.Ordinal)
                                        && line.Contains("Deadlock", StringComparison.Ordinal)
                                        && line.Contains("Job/write-model-anomaly-detector (wave 3) and Job/write-model-predictive-analytics (wave 3) write claim model-storage-pvc later", StringComparison.Ordinal));
        Assert.Contains(errors, line => line.Contains("InferenceService/predictive-analytics", StringComparison.Ordinal)
                                        && line.Contains("verification Job/argohooks-verify-models runs in wave 5", StringComparison.Ordinal));
        Assert.StartsWith("FAILED:", result.Output.Split('\n').Last(line => line.Length > 0), StringComparison.Ordinal);
        Assert.DoesNotContain("verifier-not-awaited", (await Cli.RunAsync(["-o", "json", "-"], strict)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_strict_example_is_ok()
    {
        // The verification Job is a Sync hook in wave 2, so Argo CD waits for it and for the strict InferenceServices.
        var report = await JsonAsync("strict.rendered.yaml", 0);
        Assert.Empty(Rules(report));
        Assert.Equal(["strict", "strict"], report["inferenceServices"]!.AsArray().Select(service => (string)service!["gate"]!));
    }

    [Fact]
    public async Task Writer_in_the_same_wave_as_a_strict_InferenceService_is_ok()
    {
        var report = await JsonAsync("writer-same-wave.yaml", 0);
        Assert.Empty(Rules(report));
        var service = report["inferenceServices"]![0]!;
        Assert.Equal("write-fraud-model", (string)service["writers"]![0]!["name"]!);
        Assert.Equal(2, (long)service["writers"]![0]!["steps"]![0]!["wave"]!);
    }

    [Fact]
    public async Task A_PostSync_verification_Job_is_ok_and_awaited()
    {
        var report = await JsonAsync("postsync-verification.yaml", 0);
        Assert.Empty(Rules(report));
        var verifier = report["inferenceServices"]![0]!["verifiers"]![0]!;
        Assert.Equal(("PostSync", true), ((string)verifier["steps"]![0]!["phase"]!, (bool)verifier["hook"]!));
    }

    [Fact]
    public async Task Helm_hooks_are_placed_as_Argo_CD_places_them()
    {
        var report = await JsonAsync("helm-hooks.yaml", 0);
        Assert.Empty(Rules(report, "error"));
        Assert.Empty(Rules(report, "warning"));
        var service = report["inferenceServices"]![0]!;
        Assert.Equal(("PostSync", 0L), ((string)service["writers"]![0]!["steps"]![0]!["phase"]!, (long)service["writers"]![0]!["steps"]![0]!["wave"]!));
        Assert.Equal(("PostSync", 5L), ((string)service["verifiers"]![0]!["steps"]![0]!["phase"]!, (long)service["verifiers"]![0]!["steps"]![0]!["wave"]!));

        var strict = Fixture("helm-hooks.yaml").Replace("argohooks.io/gate: deferred", "argohooks.io/gate: strict", StringComparison.Ordinal);
        var result = await Cli.RunAsync(["-o", "json", "-"], strict);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal(["deadlock-writer", "deadlock-verifier"], Rules(JsonNode.Parse(result.Output)!.AsObject(), "error"));
    }

    [Fact]
    public async Task A_verification_Job_without_the_projected_token_fails_the_check()
    {
        var result = await Cli.RunAsync([Cli.TestData("missing-token.yaml")]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("\nerror     Job/argohooks-verify-models  It has no projected serviceAccountToken volume", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_for_the_wrong_audience_fails_the_check_unless_that_audience_is_configured()
    {
        Assert.Equal(["token-audience"], Rules(await JsonAsync("wrong-audience.yaml", 1), "error"));
        Assert.Empty(Rules(await JsonAsync("wrong-audience.yaml", 0, "--audience", "https://kubernetes.default.svc"), "error"));
    }

    [Fact]
    public async Task A_missing_verification_Job_is_a_warning()
    {
        var report = await JsonAsync("missing-verification.yaml", 0);
        Assert.Equal(["verifier-missing"], Rules(report, "warning"));
        Assert.Equal(1, (int)report["summary"]!["warnings"]!);
    }

    [Fact]
    public async Task Claims_are_checked_independently_and_Lists_are_read()
    {
        var report = await JsonAsync("multiple-claims.yaml", 1);
        var error = Assert.Single(report["findings"]!.AsArray(), finding => (string?)finding!["severity"] == "error")!;
        Assert.Equal(("deadlock-writer", "a"), ((string)error["rule"]!, (string)error["resource"]!["name"]!));
        Assert.Equal("feature-store", (string)report["inferenceServices"]![1]!["writers"]![0]!["name"]!);
    }

    [Fact]
    public async Task InferenceServices_without_a_pvc_storageUri_are_ignored()
    {
        var result = await Cli.RunAsync([Cli.TestData("non-pvc.yaml")]);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("No InferenceService with a pvc:// storageUri in the input.", result.Output, StringComparison.Ordinal);
        Assert.Contains("OK: 0 InferenceService(s) checked", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_yaml_exits_2_naming_the_file_and_line()
    {
        var path = Cli.TestData("malformed.yaml");
        var result = await Cli.RunAsync([Cli.TestData("seed-deferred.rendered.yaml"), path]);
        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Output);
        Assert.StartsWith($"check-layout: {path}:11: not valid YAML", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreadable_inputs_exit_2()
    {
        var missing = Path.Combine(Path.GetTempPath(), "argohooks-no-such-file-" + Guid.NewGuid().ToString("N") + ".yaml");
        var result = await Cli.RunAsync([missing]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(missing, result.Error, StringComparison.Ordinal);

        var folder = await Cli.RunAsync([AppContext.BaseDirectory]);
        Assert.Equal(2, folder.ExitCode);
        Assert.Contains("is a folder", folder.Error, StringComparison.Ordinal);

        var empty = await Cli.RunAsync(["-"], "# Source: chart/templates/nothing.yaml\n---\n");
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("<stdin>: no Kubernetes objects", empty.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Standard_input_is_read_for_dash_and_by_default_and_several_inputs_make_one_layout()
    {
        var piped = await Cli.RunAsync([], Fixture("missing-verification.yaml"));
        Assert.Equal(0, piped.ExitCode);
        Assert.Contains("verifier-missing", (await Cli.RunAsync(["-o", "json"], Fixture("missing-verification.yaml"))).Output, StringComparison.Ordinal);

        // The verification Job in a second input completes the layout of the first.
        var verifier = Fixture("postsync-verification.yaml").Split("\n---\n")[2];
        var combined = await Cli.RunAsync(["-o", "json", Cli.TestData("missing-verification.yaml"), "-"], verifier);
        Assert.Equal(0, combined.ExitCode);
        Assert.DoesNotContain("verifier-missing", combined.Output, StringComparison.Ordinal);
        Assert.Contains("\"source\": \"<stdin>\"", combined.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_carries_the_layout_and_summary()
    {
        var report = await JsonAsync("seed-deferred.rendered.yaml", 0);
        var services = report["inferenceServices"]!.AsArray();
        Assert.Equal(["anomaly-detector", "predictive-analytics"], services.Select(service => (string)service!["resource"]!["name"]!));
        Assert.Equal(("model-storage-pvc", "anomaly-detector", "deferred"), ((string)services[0]!["claim"]!, (string)services[0]!["path"]!, (string)services[0]!["gate"]!));
        Assert.Equal(2, services[0]!["writers"]!.AsArray().Count);
        Assert.Equal("/var/run/secrets/argohooks/token", (string)report["verificationJobs"]![0]!["tokenFile"]!);
        Assert.Equal(0, (int)report["summary"]!["exitCode"]!);
    }

    [Fact]
    public void Unknown_output_formats_and_an_empty_audience_are_usage_errors()
    {
        var root = new System.CommandLine.RootCommand { SyncLayoutCommand.Create(new StringReader("")) };
        Assert.NotEmpty(root.Parse(["check-layout", "-o", "yaml", "x.yaml"]).Errors);
        Assert.NotEmpty(root.Parse(["check-layout", "--audience", " ", "x.yaml"]).Errors);
        Assert.Empty(root.Parse(["check-layout", "-o", "json", "--audience", "hooks", "x.yaml", "-"]).Errors);
    }

    [Fact]
    public async Task The_seed_hook_service_rendered_with_its_application_mounts_the_model_claim()
    {
        var result = await Cli.RunAsync(["-o", "json", Cli.TestData("seed-hook-service.rendered.yaml"), Cli.TestData("seed-deferred.rendered.yaml")]);
        Assert.Equal(0, result.ExitCode);
        Assert.DoesNotContain("service-claim-not-mounted", result.Output, StringComparison.Ordinal);

        var withoutMount = Fixture("seed-hook-service.rendered.yaml").Replace("mountPath: /mnt/pvc/model-storage-pvc", "mountPath: /models", StringComparison.Ordinal);
        var broken = await Cli.RunAsync([Cli.TestData("seed-deferred.rendered.yaml"), "-"], withoutMount);
        Assert.Equal(0, broken.ExitCode);
        Assert.Contains("warning   Deployment/argohooks", broken.Output, StringComparison.Ordinal);
        Assert.Contains("mounts claim model-storage-pvc at /models", broken.Output, StringComparison.Ordinal);
    }

    /// <summary>The rendered fixtures are deploy/examples as kustomize renders them today (skipped without kubectl).</summary>
    [Theory]
    [InlineData("seed-deferred", "seed-deferred/app")]
    [InlineData("strict", "strict/app")]
    [InlineData("seed-hook-service", "seed-deferred/hook-service")]
    public async Task Rendered_examples_match_deploy_examples(string example, string folder)
    {
        var kubectl = Environment.GetEnvironmentVariable("PATH")!.Split(Path.PathSeparator)
            .Select(folder => Path.Combine(folder, "kubectl")).FirstOrDefault(File.Exists);
        if (kubectl is null)
        {
            Assert.Skip("kubectl is not installed; the rendered fixtures were not compared with deploy/examples.");
        }

        var start = new ProcessStartInfo(kubectl, ["kustomize", Path.Combine(Cli.RepoRoot, "deploy", "examples", folder)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var rendered = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, errors);
        Assert.True(rendered == Fixture(example + ".rendered.yaml"),
            $"testdata/{example}.rendered.yaml is stale: run kubectl kustomize deploy/examples/{folder} > tests/ArgoHooks.SyncLayout.Tests/testdata/{example}.rendered.yaml");
    }
}
