using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.Healing;

public sealed class HealerTests : IDisposable
{
    private readonly HealerFixture fixture = new();
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => fixture.Dispose();

    [Fact]
    public async Task A_model_written_after_the_predictor_started_is_loaded_by_exactly_one_restart_and_verified()
    {
        fixture.AddInferenceService("anomaly-detector");
        var model = "model bytes"u8.ToArray();
        var healing = fixture.HealAsync("anomaly-detector");
        await Task.Delay(100, Ct);
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("anomaly-detector"), "model.pkl"), model, Ct);

        var final = await healing;

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(HealerFixture.Sha256(model), final.ArtifactDigest);
        Assert.Equal(1, final.Restarts);
        Assert.Equal(1, fixture.Cluster.Restarts["anomaly-detector"]);
        Assert.Equal(HealerFixture.Sha256(model), fixture.Cluster.LoadedDigest("anomaly-detector"));
        Assert.Equal([Phases.AwaitingArtifact, Phases.Restarting, Phases.Verifying, Phases.Verified], fixture.Cluster.PhasesOf("anomaly-detector"));
        var isvc = fixture.Cluster.Get("anomaly-detector");
        Assert.Equal(isvc.Generation.ToString(), isvc.Annotations[ContractAnnotations.Generation]);
        Assert.Equal(HealerFixture.Sha256(model), isvc.Annotations[ContractAnnotations.ArtifactDigest]);
        Assert.Equal("run-1", isvc.Annotations[ContractAnnotations.Run]);
        Assert.True(isvc.Annotations.ContainsKey(ContractAnnotations.VerifiedAt));
    }

    [Fact]
    public async Task Pods_that_started_after_the_artifact_and_answer_the_probe_are_not_restarted()
    {
        fixture.AddInferenceService("ready");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("ready"), "model.joblib"), [1, 2, 3], Ct);
        fixture.Cluster.RecreatePods("ready", startedLater: TimeSpan.FromSeconds(2));

        var final = await fixture.HealAsync("ready");

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(0, final.Restarts);
        Assert.Equal(0, fixture.Cluster.TotalRestarts);
        Assert.Contains("so there is no restart", fixture.Reported.Last(status => status.Phase == Phases.Verifying).Message);
        Assert.Equal([Phases.AwaitingArtifact, Phases.Verifying, Phases.Verified], fixture.Cluster.PhasesOf("ready"));
    }

    [Fact]
    public async Task A_second_run_after_success_verifies_without_restarting_again()
    {
        fixture.AddInferenceService("twice");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("twice"), "model.pkl"), [9, 9], Ct);

        Assert.Equal(Phases.Verified, (await fixture.HealAsync("twice", "run-a")).Phase);
        Assert.Equal(Phases.Verified, (await fixture.HealAsync("twice", "run-b")).Phase);

        Assert.Equal(1, fixture.Cluster.Restarts["twice"]);
    }

    [Fact]
    public async Task A_model_that_never_appears_fails_after_the_timeout_without_a_restart()
    {
        fixture.AddInferenceService("missing");

        var final = await fixture.HealAsync("missing", artifactTimeout: TimeSpan.FromMilliseconds(300));

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("No *.pkl, *.pickle or *.joblib file appeared in pvc://model-storage-pvc/missing", final.Message);
        Assert.Contains("check that the job writing the model ran", final.Message);
        Assert.Equal(0, fixture.Cluster.TotalRestarts);
        Assert.Equal(Phases.Failed, fixture.Cluster.Get("missing").Annotations[ContractAnnotations.Phase]);
    }

    [Fact]
    public async Task A_model_written_slowly_is_not_restarted_for_before_it_is_stable_and_the_final_digest_is_recorded()
    {
        fixture.ArtifactOptions.SettleInterval = TimeSpan.FromMilliseconds(800); // far above the writer's pauses, even on a loaded machine
        fixture.AddInferenceService("slow");
        var path = Path.Combine(fixture.Folder("slow"), "model.pkl");
        var content = new List<byte>();
        var healing = fixture.HealAsync("slow");
        await using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var chunk = 0; chunk < 6; chunk++)
            {
                var bytes = Enumerable.Repeat((byte)chunk, 1000).ToArray();
                await stream.WriteAsync(bytes, Ct);
                await stream.FlushAsync(Ct);
                content.AddRange(bytes);
                await Task.Delay(60, Ct); // shorter than the settle interval: never stable mid-write
                Assert.Equal(0, fixture.Cluster.TotalRestarts);
            }
        }

        var final = await healing;

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(HealerFixture.Sha256([.. content]), final.ArtifactDigest);
        Assert.Equal(HealerFixture.Sha256([.. content]), fixture.Cluster.LoadedDigest("slow"));
        Assert.Equal(1, fixture.Cluster.TotalRestarts);
    }

    [Theory]
    [InlineData("s3://bucket/model", "is not a pvc:// URI")]
    [InlineData("pvc://other-claim/model", "The PVC other-claim is not mounted into the hook service")]
    [InlineData("pvc://model-storage-pvc/../etc", "leaves the claim")]
    [InlineData("pvc://model-storage-pvc//etc", "leaves the claim")]
    [InlineData("pvc://Model_Storage/x", "does not name a valid PVC")]
    public async Task Storage_uris_that_cannot_be_waited_for_fail_with_what_to_fix(string storageUri, string expected)
    {
        fixture.AddInferenceService("bad-uri").StorageUri = storageUri;

        var final = await fixture.HealAsync("bad-uri");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains(expected, final.Message);
        Assert.Equal(0, fixture.Cluster.TotalRestarts);
    }

    [Fact]
    public async Task A_symlink_leading_out_of_the_claim_is_refused()
    {
        var outside = Directory.CreateTempSubdirectory("argohooks-outside-").FullName;
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(outside, "model.pkl"), [1], Ct);
            File.CreateSymbolicLink(Path.Combine(fixture.Folder(""), "escape"), outside);
            fixture.Cluster.Add("linked", $"pvc://{HealerFixture.Claim}/escape", outside);

            var final = await fixture.HealAsync("linked");

            Assert.Equal(Phases.Failed, final.Phase);
            Assert.Contains("symlink that leads outside the PVC", final.Message);
            Assert.Equal(0, fixture.Cluster.TotalRestarts);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task Several_model_files_fail_because_the_server_would_refuse_them()
    {
        fixture.AddInferenceService("ambiguous");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("ambiguous"), "a.pkl"), [1], Ct);
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("ambiguous"), "b.joblib"), [2], Ct);

        var final = await fixture.HealAsync("ambiguous");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("several model files (a.pkl, b.joblib)", final.Message);
        Assert.Equal(0, fixture.Cluster.TotalRestarts);
    }

    [Fact]
    public async Task The_artifact_annotation_names_the_file_to_wait_for()
    {
        fixture.AddInferenceService("override", annotations: new Dictionary<string, string> { [ContractAnnotations.Artifact] = "weights/final.bin" });
        Directory.CreateDirectory(Path.Combine(fixture.Folder("override"), "weights"));
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("override"), "model.pkl"), [1], Ct);
        var healing = fixture.HealAsync("override");
        await Task.Delay(300, Ct);
        Assert.False(healing.IsCompleted); // model.pkl alone is not what was asked for
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("override"), "weights", "final.bin"), [7, 7, 7], Ct);

        var final = await healing;

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(HealerFixture.Sha256([7, 7, 7]), final.ArtifactDigest);
    }

    [Fact]
    public async Task A_run_that_already_restarted_resumes_at_the_rollout_without_restarting_again()
    {
        fixture.AddInferenceService("resumed");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("resumed"), "model.pkl"), [5], Ct);
        fixture.Cluster.RestartFromElsewhere("resumed", "run-1"); // what a previous instance of the service did

        var final = await fixture.HealAsync("resumed", "run-1");

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(1, final.Restarts);
        Assert.Equal(1, fixture.Cluster.Restarts["resumed"]);
        Assert.DoesNotContain(Phases.AwaitingArtifact, fixture.Cluster.PhasesOf("resumed"));
    }

    [Fact]
    public async Task A_restart_by_another_caller_of_the_same_run_during_the_decision_is_joined_not_repeated()
    {
        fixture.AddInferenceService("raced");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("raced"), "model.pkl"), [5], Ct);
        fixture.Cluster.ConflictBeforeRestart["raced"] = () => fixture.Cluster.RestartFromElsewhere("raced", "run-1");

        var final = await fixture.HealAsync("raced", "run-1");

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(1, fixture.Cluster.Restarts["raced"]);
    }

    [Fact]
    public async Task An_unrelated_change_before_the_restart_is_re_read_and_the_restart_happens_once()
    {
        var isvc = fixture.AddInferenceService("changed");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("changed"), "model.pkl"), [5], Ct);
        fixture.Cluster.ConflictBeforeRestart["changed"] = () => isvc.ResourceVersion = "999999";

        var final = await fixture.HealAsync("changed");

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(1, fixture.Cluster.Restarts["changed"]);
    }

    [Fact]
    public async Task A_failed_rollout_fails_with_its_reason()
    {
        fixture.AddInferenceService("stuck");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("stuck"), "model.pkl"), [5], Ct);
        fixture.Cluster.RolloutOutcome = new RolloutOutcome(RolloutResult.Failed, "ProgressDeadlineExceeded", "ReplicaSet stuck-predictor-1 has timed out progressing");

        var final = await fixture.HealAsync("stuck");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("ProgressDeadlineExceeded", final.Message);
        Assert.Contains("has timed out progressing", final.Message);
    }

    [Fact]
    public async Task A_model_server_that_does_not_load_the_model_fails_with_its_own_words()
    {
        fixture.AddInferenceService("unloadable");
        // Pods recreated by the restart see two files (written after waiting started), so they load nothing.
        fixture.Cluster.ConflictBeforeRestart["unloadable"] = () =>
            File.WriteAllBytes(Path.Combine(fixture.Folder("unloadable"), "second.pickle"), [1]);
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("unloadable"), "model.pkl"), [5], Ct);

        var final = await fixture.HealAsync("unloadable");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("Model with name unloadable does not exist.", final.Message);
        Assert.Contains("404", final.Message);
    }

    [Fact]
    public async Task A_failing_smoke_prediction_fails_the_verification()
    {
        fixture.AddInferenceService("smoky", annotations: new Dictionary<string, string> { [ContractAnnotations.SmokeRequest] = "{\"instances\":[[1,2]]}" });
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("smoky"), "model.pkl"), [5], Ct);
        fixture.Cluster.SmokeAnswer = new ProbeResult(false, 500, "X has 2 features, but the model expects 4");

        var final = await fixture.HealAsync("smoky");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("X has 2 features, but the model expects 4", final.Message);
    }

    [Fact]
    public async Task A_missing_inference_service_fails_without_writing_anything()
    {
        var final = await fixture.HealAsync("ghost");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("does not exist in namespace ns", final.Message);
        Assert.Equal(0, fixture.Cluster.Writes);
    }

    [Fact]
    public async Task Every_reported_status_of_a_phase_is_one_sentence()
    {
        fixture.AddInferenceService("sentences");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("sentences"), "model.pkl"), [5], Ct);

        await fixture.HealAsync("sentences");

        Assert.All(fixture.Cluster.PhaseWrites, write =>
        {
            Assert.EndsWith(".", write.Record.Message);
            Assert.DoesNotContain("\n", write.Record.Message);
        });
    }

    [Fact]
    public async Task Pods_that_loaded_an_older_model_are_restarted_even_though_they_answer_the_probe()
    {
        fixture.AddInferenceService("replaced");
        var path = Path.Combine(fixture.Folder("replaced"), "model.pkl");
        await File.WriteAllBytesAsync(path, [1], Ct);
        fixture.Cluster.RecreatePods("replaced", startedLater: TimeSpan.Zero); // they load the old model
        await File.WriteAllBytesAsync(path, [2, 2], Ct);

        var final = await fixture.HealAsync("replaced");

        Assert.Equal(Phases.Verified, final.Phase);
        Assert.Equal(1, fixture.Cluster.Restarts["replaced"]);
        Assert.Equal(HealerFixture.Sha256([2, 2]), fixture.Cluster.LoadedDigest("replaced"));
    }

    [Fact]
    public async Task An_unexpected_error_is_recorded_as_Failed_so_health_does_not_stay_Progressing()
    {
        fixture.AddInferenceService("api-gone");
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("api-gone"), "model.pkl"), [5], Ct);
        fixture.Cluster.RolloutError = new HttpRequestException("connection refused");

        var final = await fixture.HealAsync("api-gone");

        Assert.Equal(Phases.Failed, final.Phase);
        Assert.Contains("because the Kubernetes API could not be reached", final.Message);
        Assert.Equal(Phases.Failed, fixture.Cluster.Get("api-gone").Annotations[ContractAnnotations.Phase]);
    }
}
