using System.Net;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Runs;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.EndToEnd;

/// <summary>At most one restart per InferenceService per run: duplicates, concurrency, a restarted hook service.</summary>
public sealed class RecoveryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_hook_service_restarted_mid_run_resumes_the_same_run_without_a_second_restart()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        var call = service.CallAsync("--inference-service", "anomaly-detector", "--run-id", "job-uid-1", "--wait-seconds", "5");
        await service.Cluster.WaitUntilAsync(_ => service.Annotations("anomaly-detector").GetValueOrDefault(ContractAnnotations.Phase) == Phases.AwaitingArtifact,
            TimeSpan.FromSeconds(20), Ct);

        // Freeze the controllers before the restart: the API server still takes the restart patch, but no rollout
        // can happen, so the service is certainly stopped between the restart and its verification.
        service.Cluster.Controllers.Paused = true;
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [1, 2, 3, 4], Ct);
        await service.Cluster.WaitUntilAsync(_ => service.Annotations("anomaly-detector").GetValueOrDefault(ContractAnnotations.Phase) == Phases.Restarting,
            TimeSpan.FromSeconds(20), Ct);
        await service.StopHostAsync();
        Assert.Equal(Phases.Restarting, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);

        await service.StartHostAsync(); // a new process: it knows no run
        service.Cluster.Controllers.Paused = false;
        var (exit, output) = await call;

        Assert.True(exit == 0, output);
        Assert.Contains("does not know run job-uid-1", output);
        Assert.Equal(Phases.Verified, service.Annotations("anomaly-detector")[ContractAnnotations.Phase]);
        Assert.Equal(HealerFixture.Sha256([1, 2, 3, 4]), service.Annotations("anomaly-detector")[ContractAnnotations.ArtifactDigest]);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
        var resumed = await service.WaitRunAsync("job-uid-1");
        Assert.Equal(1, resumed.InferenceServices.Single().Restarts);
    }

    [Fact]
    public async Task Duplicate_and_concurrent_posts_restart_each_InferenceService_once()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        const string body = """{"namespace":"self-healing-platform","inferenceServices":["anomaly-detector"],"runId":"job-a"}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 6)
            .Select(_ => service.Host.Client.SendAsync(Api.Post(body, EmulatedService.CallerToken), Ct))
            .Append(service.Host.Client.SendAsync(Api.Post(body.Replace("job-a", "job-b"), EmulatedService.CallerToken), Ct))
            .Append(service.Host.Client.SendAsync(Api.Post(body.Replace("job-a", "job-c"), EmulatedService.CallerToken), Ct)));
        Assert.All(responses, response => Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, response.StatusCode.ToString()));
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [7, 7], Ct);

        var runs = new[] { await service.WaitRunAsync("job-a"), await service.WaitRunAsync("job-b"), await service.WaitRunAsync("job-c") };

        Assert.All(runs, run => Assert.Equal(RunStates.Succeeded, run.State));
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
        Assert.Equal(2, runs.Count(run => run.InferenceServices[0].JoinedRun is not null));

        // A later run over the same, already verified model: no restart at all.
        using var again = await service.Host.Client.SendAsync(Api.Post(body.Replace("job-a", "job-d"), EmulatedService.CallerToken), Ct);
        var later = await service.WaitRunAsync("job-d");
        Assert.Equal(RunStates.Succeeded, later.State);
        Assert.Equal(0, later.InferenceServices[0].Restarts);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
        foreach (var response in responses) response.Dispose();
    }

    [Fact]
    public async Task The_call_waits_for_a_service_that_is_not_up_yet()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [3], Ct);
        await service.StopHostAsync();

        var call = service.CallAsync("--inference-service", "anomaly-detector", "--run-id", "early-job");
        await Task.Delay(300, Ct);
        await service.StartHostAsync();
        var (exit, output) = await call;

        Assert.True(exit == 0, output);
        Assert.Contains("could not be reached", output);
        Assert.Equal(1, service.RestartsOf("anomaly-detector"));
    }
}
