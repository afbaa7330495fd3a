using ArgoHooks.Demo.Reliability;

namespace ArgoHooks.Demo.Tests.Reliability;

/// <summary>
/// The fault matrix in its quick configuration. Each test asserts the scenario's invariant from the cluster's
/// side (pods seen, annotations, the model probe, health.lua, exit codes) — never how fast it went.
/// </summary>
public sealed class ReliabilityScenarioTests
{
    private static readonly ReliabilityOptions Quick = ReliabilityOptions.Quick;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Twenty_percent_failing_api_requests_still_verify_everything_with_exactly_one_restart_each()
    {
        var result = await ReliabilityScenarios.ApiFaultsAsync(Quick, Token);

        Assert.True(result.Figures["injected"] > 0, "no fault was injected, so nothing was tested");
        Assert.Equal([0], result.ExitCodes);
        Assert.All(result.InferenceServices.Values, outcome =>
        {
            Assert.Equal("Verified", outcome.Phase);
            Assert.Equal(1, outcome.Restarts);
            Assert.True(outcome.Serves, $"{outcome.Name} does not answer the model probe with 200");
        });
        Assert.True(result.Held);
    }

    [Fact]
    public async Task A_service_killed_mid_run_and_started_again_completes_the_run_without_a_second_restart()
    {
        var result = await ReliabilityScenarios.ServiceKilledAsync(Quick, Token);

        Assert.Equal([0], result.ExitCodes);
        Assert.All(result.InferenceServices.Values, outcome =>
        {
            Assert.Equal("Verified", outcome.Phase);
            Assert.InRange(outcome.Restarts, 0, 1);
            Assert.True(outcome.Serves, $"{outcome.Name} does not answer the model probe with 200");
        });
    }

    [Fact]
    public async Task Ten_identical_posts_and_three_overlapping_jobs_restart_each_predictor_once()
    {
        var result = await ReliabilityScenarios.DuplicateCallersAsync(Quick, Token);

        Assert.Equal(1, result.Figures["created"]);
        Assert.Equal(9, result.Figures["joined"]);
        Assert.Equal(1, result.Figures["sharedRunSucceeded"]);
        Assert.Equal([0, 0, 0], result.ExitCodes);
        AssertEachVerifiedAfterOneRestart(result);
    }

    [Fact]
    public async Task A_growing_artifact_is_not_loaded_before_it_is_complete_and_the_final_file_is_verified()
    {
        var result = await ReliabilityScenarios.GrowingArtifactAsync(Quick, Token);

        Assert.Equal([0], result.ExitCodes);
        Assert.Equal(0, result.Figures["restartsBeforeComplete"]);
        Assert.Equal(1, result.Figures["digestMatches"]);
        Assert.Equal(1, result.Figures["loadedMatches"]);
        Assert.Equal(1, Assert.Single(result.InferenceServices.Values).Restarts);
    }

    [Fact]
    public async Task An_artifact_that_never_appears_fails_the_job_and_argo_cd_shows_degraded_with_what_to_check()
    {
        var result = await ReliabilityScenarios.MissingArtifactAsync(Quick, Token);

        Assert.Equal([1], result.ExitCodes);
        var outcome = Assert.Single(result.InferenceServices.Values);
        Assert.Equal("Failed", outcome.Phase);
        Assert.Equal("Degraded", outcome.Health);
        Assert.Equal(outcome.Message, outcome.HealthMessage); // Argo CD shows the hook service's own sentence
        Assert.Contains($"pvc://{ReliabilityOptions.Claim}/{outcome.Name}", outcome.HealthMessage, StringComparison.Ordinal);
        Assert.Equal(0, outcome.Restarts);
    }

    [Fact]
    public async Task A_predictor_that_never_becomes_ready_fails_with_progress_deadline_exceeded()
    {
        var result = await ReliabilityScenarios.NeverReadyAsync(Quick, Token);

        Assert.Equal([1], result.ExitCodes);
        var outcome = Assert.Single(result.InferenceServices.Values);
        Assert.Equal("Failed", outcome.Phase);
        Assert.Contains("ProgressDeadlineExceeded", outcome.Message, StringComparison.Ordinal);
        Assert.Equal("Degraded", outcome.Health);
        Assert.Equal(1, outcome.Restarts);
    }

    [Fact]
    public async Task Cut_watch_streams_and_410_gone_are_recovered()
    {
        var result = await ReliabilityScenarios.WatchCutsAsync(Quick, Token);

        Assert.True(result.Figures["cut"] > 0, "no watch stream was open to cut, so nothing was tested");
        Assert.Equal([0], result.ExitCodes);
        AssertEachVerifiedAfterOneRestart(result);
    }

    [Fact]
    public async Task With_kserve_copying_annotations_to_pods_the_disallowed_hook_keys_keep_it_to_one_restart()
    {
        var result = await ReliabilityScenarios.AnnotationPropagationAsync(Quick, Token);

        Assert.Equal([0], result.ExitCodes);
        AssertEachVerifiedAfterOneRestart(result);
        // Without the install step the phase writes themselves roll the predictor: more than the one restart.
        Assert.True(result.Figures["unconfiguredRestarts"] > 1, $"only {result.Figures["unconfiguredRestarts"]} restart without the disallowed keys");
    }

    [Fact]
    public async Task Sustained_runs_on_loopback_answer_without_errors_and_restart_nothing_more()
    {
        var options = new ReliabilityOptions
        {
            PredictorStartupDelay = Quick.PredictorStartupDelay,
            SettleInterval = Quick.SettleInterval,
            PollInterval = Quick.PollInterval,
            LoadInferenceServices = Quick.LoadInferenceServices,
            LoadDuration = TimeSpan.FromSeconds(6),
            ScenarioTimeout = Quick.ScenarioTimeout,
        };

        var result = await LoadScenario.RunAsync(options, Token);

        Assert.Equal([0], result.ExitCodes);
        Assert.True(result.Figures["runs"] >= 10, $"only {result.Figures["runs"]} runs were started");
        Assert.True(result.Figures["gets"] >= result.Figures["runs"]);
        Assert.Equal(0, result.Figures["errors"]);
        Assert.All(result.InferenceServices.Values, outcome => Assert.Equal(1, outcome.Restarts));
    }

    /// <summary>The invariant most scenarios keep: every InferenceService Verified, restarted exactly once (pods counted in the cluster).</summary>
    private static void AssertEachVerifiedAfterOneRestart(ScenarioResult result) =>
        Assert.All(result.InferenceServices.Values, outcome =>
        {
            Assert.Equal("Verified", outcome.Phase);
            Assert.Equal(1, outcome.Restarts);
        });
}
