using System.Net;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.EndToEnd;

public sealed class OperationsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Waiting_for_an_artifact_does_not_poll_the_Kubernetes_API()
    {
        await using var service = await EmulatedService.StartAsync();
        await service.CreatePredictorBeforeModelAsync("anomaly-detector");
        using var started = await service.Host.Client.SendAsync(Api.Post(
            """{"namespace":"self-healing-platform","inferenceServices":["anomaly-detector"],"runId":"quiet","artifactTimeoutSeconds":60}""", EmulatedService.CallerToken), Ct);
        await service.Cluster.WaitUntilAsync(_ => service.Annotations("anomaly-detector").GetValueOrDefault(ContractAnnotations.Phase) == Phases.AwaitingArtifact,
            TimeSpan.FromSeconds(20), Ct);
        var before = Reads(service);

        await Task.Delay(TimeSpan.FromSeconds(1), Ct); // 40 filesystem polls at 25 ms

        Assert.Equal(before, Reads(service));
        await File.WriteAllBytesAsync(service.ModelFile("anomaly-detector"), [1], Ct);
        Assert.Equal("Succeeded", (await service.WaitRunAsync("quiet")).State);
    }

    [Fact]
    public async Task Readiness_follows_the_API_server()
    {
        await using var service = await EmulatedService.StartAsync();
        using var ready = await service.Host.Client.GetAsync("readyz", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        await using var orphan = await ServiceHost.StartAsync(new Dictionary<string, string>
        {
            ["ArgoHooks:Kubernetes:Host"] = "http://127.0.0.1:1",
            ["ArgoHooks:Kubernetes:Token"] = "x",
            ["ArgoHooks:Kubernetes:MaxRetries"] = "1",
            ["ArgoHooks:Kubernetes:RetryBaseDelay"] = "00:00:00.010",
            ["ArgoHooks:Security:Enabled"] = "false",
        });
        using var notReady = await orphan.Client.GetAsync("readyz", Ct);
        using var alive = await orphan.Client.GetAsync("healthz", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        await Api.ReadProblemAsync(notReady);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
    }

    [Fact]
    public async Task Finished_runs_beyond_the_retention_bound_are_forgotten_oldest_first()
    {
        using var fixture = new HealerFixture();
        await using var host = await ServiceHost.StartWithFakesAsync(fixture, new FakeAuthorizer(), new Dictionary<string, string> { ["ArgoHooks:Runs:MaxRetainedRuns"] = "2" });
        foreach (var id in new[] { "r1", "r2", "r3" })
        {
            using var created = await host.Client.SendAsync(Api.Post($$"""{"namespace":"ns","inferenceServices":["ghost"],"runId":"{{id}}"}"""), Ct);
            Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
            Assert.Equal("Failed", (await Api.WaitFinishedAsync(host.Client, id)).State); // ghost does not exist
        }

        using var oldest = await host.Client.SendAsync(Api.Get("v1/runs/r1"), Ct);
        using var newest = await host.Client.SendAsync(Api.Get("v1/runs/r3"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, oldest.StatusCode);
        Assert.Equal(HttpStatusCode.OK, newest.StatusCode);
    }

    private static (long, long, long) Reads(EmulatedService service) =>
        (service.Cluster.Requests.Count("get") + service.Cluster.Requests.Count("list"),
            service.Cluster.Requests.Count("watch"),
            service.Cluster.Requests.Count("patch"));
}
