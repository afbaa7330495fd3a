using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.EndToEnd;

public sealed class StrategyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("inferenceservice")]
    [InlineData("deployment")]
    [InlineData("delete-pods")]
    public async Task Every_restart_strategy_loads_the_model_with_one_restart(string strategy)
    {
        await using var service = await EmulatedService.StartAsync(strategy);
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [4, 2], Ct);

        var (exit, output) = await service.CallAsync("--inference-service", "anomaly-detector");

        Assert.True(exit == 0, output);
        Assert.Equal(Phases.Verified, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
        Assert.All(await service.ProbeAllAsync("anomaly-detector"), code => Assert.Equal(200, code));
        Assert.Equal("Healthy", service.Health("anomaly-detector").Status);
    }

    [Fact]
    public async Task Knative_mode_is_verified_on_the_new_revision()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector", mode: "Serverless");
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [9], Ct);

        var (exit, output) = await service.CallAsync("--inference-service", "anomaly-detector");

        Assert.True(exit == 0, output);
        var isvc = service.Isvc("anomaly-detector");
        var predictor = isvc["status"]!["components"]!["predictor"]!;
        Assert.Equal(predictor["latestCreatedRevision"]!.ToString(), predictor["latestReadyRevision"]!.ToString());
        Assert.Equal(Phases.Verified, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
        Assert.Equal("Healthy", service.Health("anomaly-detector").Status);
    }

    [Fact]
    public async Task With_a_fifth_of_API_requests_failing_both_InferenceServices_are_still_verified_with_one_restart_each()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        await service.CreatePredictorBeforeModelAsync("predictive-analytics");
        service.Cluster.Faults.Add(new FaultRule { Rate = 0.2, StatusCodes = [429, 500, 503, 504], RetryAfterSeconds = 1 });
        var call = service.CallAsync("--inference-service", "anomaly-detector", "--inference-service", "predictive-analytics");
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [1], Ct);
        await File.WriteAllBytesAsync(service.ModelFile("predictive-analytics"), [2], Ct);

        var (exit, output) = await call;

        Assert.True(exit == 0, output);
        Assert.True(service.Cluster.Requests.FaultCount() > 0, "no fault was injected");
        foreach (var name in new[] { "anomaly-detector", "predictive-analytics" })
        {
            Assert.Equal(Phases.Verified, service.Annotations(name)[ContractAnnotations.Phase]);
            Assert.Equal(1, service.RestartsOf(name));
        }

        var metrics = await service.Host.Client.GetStringAsync("metrics", Ct);
        Assert.Contains("argohooks_kubernetes_api_retries_total{operation=", metrics);
        Assert.Contains("argohooks_restarts_total{strategy=\"inferenceservice\"}", metrics);
    }
}
