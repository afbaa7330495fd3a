using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Kubernetes;

namespace ArgoHooks.HookService.Tests.Predictors;

/// <summary>The probe against the emulator's simulated KServe sklearn servers, found through the pods adapter.</summary>
public class EmulatorProbeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_server_started_before_its_model_answers_404_until_restarted_then_ready()
    {
        await using var h = await EmulatorHarness.StartAsync();
        var probe = h.Get<IModelProbe>();
        var before = await h.CreateReadyAsync("m");

        var missing = await Task.WhenAll((await h.Pods.ListAsync(before, Ct)).Select(pod => probe.ProbeAsync(pod, before.ModelName, Ct)));

        var folder = Path.Combine(h.Cluster.Storage.ClaimDirectory("model-storage-pvc"), "m");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "model.joblib"), [1, 2, 3, 4], Ct);
        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, new PhaseRecord(Phases.Restarting, before.Generation, "Restarting.", "run-1"), Ct);
        Assert.Equal(RolloutResult.Complete, (await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct)).Result);
        var pods = await h.Pods.ListAsync(ticket.After, Ct);
        var loaded = await Task.WhenAll(pods.Select(pod => probe.ProbeAsync(pod, before.ModelName, Ct)));

        Assert.NotEmpty(missing);
        Assert.All(missing, result =>
        {
            Assert.False(result.Ready);
            Assert.Equal(404, result.StatusCode);
            Assert.Equal("Model with name m does not exist.", result.Detail);
        });
        Assert.NotEmpty(loaded);
        Assert.All(loaded, result => Assert.True(result.Ready, result.Detail));
        Assert.All(pods, pod =>
        {
            Assert.True(pod.Ready);
            Assert.Equal("127.0.0.1", pod.Endpoint.Host);
            Assert.NotNull(pod.StartedAt);
        });
    }
}
