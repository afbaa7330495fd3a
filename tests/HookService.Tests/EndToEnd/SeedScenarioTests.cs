using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>The seed scenario on the emulator with the real adapters: predictors start before their models.</summary>
public sealed class SeedScenarioTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_InferenceServices_are_verified_after_exactly_one_restart_each_even_with_a_model_written_slowly()
    {
        // A settle interval well above the writer's pauses, so even a loaded machine never sees a half-written file as stable.
        await using var service = await EmulatedService.StartAsync(extra: new() { ["ArgoHooks:Artifacts:SettleInterval"] = "00:00:01" });
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        await service.CreatePredictorBeforeModelAsync("predictive-analytics");
        Assert.All(await service.ProbeAllAsync("anomaly-detector"), code => Assert.Equal(404, code));
        Assert.Equal("Healthy", service.Health("anomaly-detector").Status); // deferred gate: not verified yet, but not blocking

        var call = service.CallAsync("--inference-service", "anomaly-detector", "--inference-service", "predictive-analytics", "--run-id", "seed-job");
        await service.Cluster.WaitUntilAsync(_ => service.Annotations("predictive-analytics").GetValueOrDefault(ContractAnnotations.Phase) == Phases.AwaitingArtifact,
            TimeSpan.FromSeconds(20), Ct);
        Assert.Equal("Progressing", service.Health("predictive-analytics").Status);

        var anomalyModel = Enumerable.Range(0, 4096).Select(i => (byte)(i % 251)).ToArray();
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), anomalyModel, Ct);
        var slowModel = new List<byte>();
        await using (var stream = new FileStream(service.ModelFile("predictive-analytics"), FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var chunk = 0; chunk < 5; chunk++)
            {
                var bytes = Enumerable.Repeat((byte)(chunk + 1), 2048).ToArray();
                await stream.WriteAsync(bytes, Ct);
                await stream.FlushAsync(Ct);
                slowModel.AddRange(bytes);
                await Task.Delay(80, Ct); // far below the settle interval
                Assert.Equal(0, service.RestartsOf("predictive-analytics"));
            }
        }

        var (exit, output) = await call;

        Assert.True(exit == 0, output);
        foreach (var (name, model) in new[] { ("anomaly-detector", anomalyModel), ("predictive-analytics", slowModel.ToArray()) })
        {
            var annotations = service.Annotations(name);
            Assert.Equal(Phases.Verified, annotations[ContractAnnotations.Phase]);
            Assert.Equal(Fakes.HealerFixture.Sha256(model), annotations[ContractAnnotations.ArtifactDigest]);
            Assert.Equal(service.Isvc(name)["metadata"]!["generation"]!.ToString(), annotations[ContractAnnotations.Generation]);
            Assert.Equal("seed-job", annotations[ContractAnnotations.Run]);
            Assert.Equal(1, service.RestartsOf(name));
            Assert.All(await service.ProbeAllAsync(name), code => Assert.Equal(200, code));
            Assert.Equal("Healthy", service.Health(name).Status);
            Assert.Contains($" {name} Verified ", output);
            Assert.Contains($" {name} Restarting ", output);
        }

        var digests = service.Cluster.ModelServers.Where(server => server.ModelName == "predictive-analytics" && server.ModelLoaded).Select(server => server.LoadedModelDigest).Distinct().ToList();
        Assert.Equal([Fakes.HealerFixture.Sha256([.. slowModel])], digests);
    }

    [Fact]
    public async Task A_model_that_never_appears_fails_the_call_and_turns_health_Degraded()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");

        var (exit, output) = await service.CallAsync("--inference-service", "anomaly-detector", "--artifact-timeout", "1");

        Assert.True(exit == 1, output);
        Assert.Contains("anomaly-detector Failed No *.pkl, *.pickle or *.joblib file appeared in pvc://model-storage-pvc/anomaly-detector within 1 second", output);
        Assert.Equal(Phases.Failed, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        var health = service.Health("anomaly-detector");
        Assert.Equal("Degraded", health.Status);
        Assert.Equal(0, service.RestartsOf("anomaly-detector"));
    }
}
