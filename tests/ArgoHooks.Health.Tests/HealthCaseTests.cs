namespace ArgoHooks.Health.Tests;

/// <summary>Every case of every health_test.yaml, in NLua and in gopher-lua: both must give the expected verdict.</summary>
public sealed class HealthCaseTests
{
    private static readonly LuaHealthEvaluator Evaluator = new();

    // One gopher-lua process per script for all of its cases.
    private static readonly Lazy<Dictionary<HealthCase, HealthStatus>> GopherVerdicts = new(() =>
        HealthCase.All.GroupBy(c => c.ScriptPath)
            .SelectMany(group => group.Zip(GopherLua.Evaluate(group.Key, group.Select(c => c.LoadObject()))))
            .ToDictionary(pair => pair.First, pair => pair.Second));

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var health in HealthCase.All)
        {
            data.Add(Path.GetRelativePath(Repository.Root, health.TestFile), health.InputPath);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Both_engines_give_the_expected_verdict(string testFile, string inputPath)
    {
        var health = Find(testFile, inputPath);
        var nlua = Evaluator.Evaluate(HealthScript.FromFile(health.ScriptPath), health.LoadObject());
        var gopher = GopherVerdicts.Value[health];

        Assert.Equal(health.Expected, nlua);
        Assert.Equal(health.Expected, gopher);
    }

    [Fact]
    public void Inference_service_cases_cover_every_rule_gate_and_mode()
    {
        var names = HealthCase.All
            .Where(c => c.ScriptPath == Repository.InferenceServiceScriptPath)
            .Select(c => Path.GetFileNameWithoutExtension(c.InputPath))
            .ToList();

        Assert.True(names.Count >= 25, $"only {names.Count} cases");
        foreach (var name in names)
        {
            // Argo CD's convention: <status>_<scenario>.yaml, the status matching the expectation.
            var expected = HealthCase.All.Single(c => Path.GetFileNameWithoutExtension(c.InputPath) == name).Expected.Status;
            Assert.StartsWith(expected.ToLowerInvariant() + "_", name, StringComparison.Ordinal);
        }
        foreach (var scenario in new[]
                 {
                     "progressing_no_status", "suspended_stopped", "degraded_blocked_by_failed_load", "degraded_invalid_spec",
                     "degraded_revision_failed", "degraded_progress_deadline_exceeded", "progressing_revision_missing_unknown",
                     "progressing_knative_new_revision", "healthy_verified_current_generation", "degraded_verification_failed",
                     "progressing_awaiting_artifact", "progressing_restarting", "progressing_verifying", "healthy_deferred_never_verified",
                     "healthy_deferred_verified_older_generation", "progressing_strict_never_verified", "progressing_strict_verified_older_generation",
                     "healthy_strict_verified_current_generation", "healthy_unknown_gate", "healthy_modelmesh", "progressing_modelmesh",
                 })
        {
            Assert.Contains(names, name => name.StartsWith(scenario, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Every_testdata_file_is_used_by_a_case()
    {
        var used = HealthCase.All.Select(c => Path.GetFullPath(c.InputFile)).ToHashSet();
        var unused = Directory.EnumerateFiles(Repository.HealthRoot, "*.yaml", SearchOption.AllDirectories)
            .Where(path => Path.GetFileName(Path.GetDirectoryName(path)) == "testdata" && !used.Contains(path))
            .ToList();
        Assert.Empty(unused);
    }

    [Fact]
    public void Every_testdata_object_is_a_complete_inference_service()
    {
        foreach (var health in HealthCase.All.Where(c => c.ScriptPath == Repository.InferenceServiceScriptPath))
        {
            var obj = health.LoadObject()!;
            Assert.Equal("serving.kserve.io/v1beta1", (string?)obj["apiVersion"]);
            Assert.Equal("InferenceService", (string?)obj["kind"]);
            foreach (var field in new[] { "uid", "resourceVersion", "generation", "creationTimestamp", "annotations" })
            {
                Assert.True(obj["metadata"]?[field] is not null, $"{health.InputPath}: metadata.{field} is missing");
            }
            Assert.NotNull(obj["spec"]?["predictor"]?["model"]?["storageUri"]);
        }
    }

    private static HealthCase Find(string testFile, string inputPath) =>
        HealthCase.All.Single(c => Path.GetRelativePath(Repository.Root, c.TestFile) == testFile && c.InputPath == inputPath);
}
