using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>
/// Real KServe copies InferenceService annotations into the predictor pod template unless they are in
/// inferenceservice-config's serviceAnnotationDisallowedList, so each contract-annotation write would roll the pods.
/// With the argohooks.io keys in the list (the install requirement), a run restarts once.
/// </summary>
public sealed class AnnotationPropagationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("RawDeployment")]
    [InlineData("Serverless")]
    public async Task With_the_contract_keys_disallowed_a_run_restarts_the_predictor_once(string mode)
    {
        await using var service = await EmulatedService.StartAsync(emulator: options =>
        {
            options.KServePropagatesInferenceServiceAnnotations = true;
            foreach (var key in ContractAnnotations.WrittenByHookService) options.ServiceAnnotationDisallowedList.Add(key);
        });
        await service.CreatePredictorBeforeModelAsync("anomaly-detector", mode);
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [5, 5], Ct);

        var (exit, output) = await service.CallAsync("--inference-service", "anomaly-detector");

        Assert.True(exit == 0, output);
        Assert.Equal(Phases.Verified, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
    }

    [Fact]
    public async Task Without_the_list_the_run_still_verifies_the_model_but_every_phase_write_rolls_the_predictor()
    {
        await using var service = await EmulatedService.StartAsync(emulator: options => options.KServePropagatesInferenceServiceAnnotations = true);
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        var call = service.CallAsync("--inference-service", "anomaly-detector");
        await service.Cluster.WaitUntilAsync(_ => service.Annotations("anomaly-detector").GetValueOrDefault(ContractAnnotations.Phase) == Phases.AwaitingArtifact,
            TimeSpan.FromSeconds(20), Ct);
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [5, 5], Ct);

        var (exit, output) = await call;

        Assert.True(exit == 0, output);
        Assert.Equal(Phases.Verified, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        // Every phase write is a pod-template change: more rollouts than the one restart (they may coalesce).
        await service.Cluster.WaitUntilAsync(_ => service.RestartsOf("anomaly-detector") >= 2, TimeSpan.FromSeconds(20), Ct);
        // Once the last of them is done, the pods still serve the model: the file is there for every start.
        await service.Cluster.WaitUntilAsync(c =>
        {
            var servers = c.ModelServers.Where(server => server.ModelName == "anomaly-detector").ToList();
            return servers.Count == 1 && servers[0].State == ArgoHooks.ClusterEmulator.ModelServerState.Running && servers[0].ModelLoaded;
        }, TimeSpan.FromSeconds(20), Ct);
    }
}
