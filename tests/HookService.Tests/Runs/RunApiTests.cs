using System.Net;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Runs;
using ArgoHooks.HookService.Tests.Fakes;

namespace ArgoHooks.HookService.Tests.Runs;

/// <summary>The run API over real Kestrel with the ports faked.</summary>
public sealed class RunApiTests : IAsyncLifetime
{
    private readonly HealerFixture fixture = new();
    private readonly FakeAuthorizer authorizer = new();
    private ServiceHost host = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => host = await ServiceHost.StartWithFakesAsync(fixture, authorizer);

    public async ValueTask DisposeAsync()
    {
        await host.DisposeAsync();
        fixture.Dispose();
    }

    private async Task WriteModelAsync(string name, byte[]? content = null) =>
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder(name), "model.pkl"), content ?? [1, 2, 3], Ct);

    [Fact]
    public async Task A_run_is_accepted_with_its_location_and_reaches_Succeeded()
    {
        fixture.AddInferenceService("anomaly-detector");
        fixture.AddInferenceService("predictive-analytics");
        await WriteModelAsync("anomaly-detector");
        await WriteModelAsync("predictive-analytics");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["anomaly-detector","predictive-analytics"],"runId":"job-1"}"""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("/v1/runs/job-1", response.Headers.Location?.ToString());
        var accepted = await Api.ReadRunAsync(response);
        Assert.Equal("job-1", accepted.Id);
        Assert.Equal(["anomaly-detector", "predictive-analytics"], accepted.InferenceServices.Select(item => item.Name));

        var finished = await Api.WaitFinishedAsync(host.Client, "job-1");
        Assert.Equal(RunStates.Succeeded, finished.State);
        Assert.NotNull(finished.FinishedAt);
        Assert.All(finished.InferenceServices, item =>
        {
            Assert.Equal(Phases.Verified, item.Phase);
            Assert.Equal(1, item.Restarts);
            Assert.StartsWith("sha256:", item.ArtifactDigest);
        });
        Assert.Equal(2, fixture.Cluster.TotalRestarts);
        Assert.Contains(finished.Events, change => change.InferenceService == "anomaly-detector" && change.Phase == Phases.Restarting);
    }

    [Fact]
    public async Task The_same_runId_again_is_the_same_run_and_a_different_request_with_it_is_a_conflict()
    {
        fixture.AddInferenceService("a");
        await WriteModelAsync("a");
        const string body = """{"namespace":"ns","inferenceServices":["a"],"runId":"same"}""";
        using var first = await host.Client.SendAsync(Api.Post(body), Ct);
        using var second = await host.Client.SendAsync(Api.Post(body), Ct);
        using var conflicting = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["a","b"],"runId":"same"}"""), Ct);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("same", (await Api.ReadRunAsync(second)).Id);
        Assert.Equal(HttpStatusCode.Conflict, conflicting.StatusCode);
        var problem = await Api.ReadProblemAsync(conflicting);
        Assert.True(problem.GetProperty("errors").TryGetProperty("runId", out _));
        await Api.WaitFinishedAsync(host.Client, "same");
        Assert.Equal(1, fixture.Cluster.TotalRestarts);
    }

    [Fact]
    public async Task Concurrent_posts_of_one_run_and_a_second_run_over_the_same_InferenceService_restart_it_once()
    {
        fixture.AddInferenceService("shared");
        const string body = """{"namespace":"ns","inferenceServices":["shared"],"runId":"job-a"}""";
        var posts = Enumerable.Range(0, 8).Select(_ => host.Client.SendAsync(Api.Post(body), Ct))
            .Append(host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["shared"],"runId":"job-b"}"""), Ct))
            .ToList();
        var responses = await Task.WhenAll(posts);
        Assert.Equal(2, responses.Count(response => response.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(7, responses.Count(response => response.StatusCode == HttpStatusCode.OK));
        await Task.Delay(100, Ct);
        await WriteModelAsync("shared");

        var a = await Api.WaitFinishedAsync(host.Client, "job-a");
        var b = await Api.WaitFinishedAsync(host.Client, "job-b");

        Assert.Equal(RunStates.Succeeded, a.State);
        Assert.Equal(RunStates.Succeeded, b.State);
        Assert.Equal(1, fixture.Cluster.Restarts["shared"]);
        Assert.Single(new[] { a, b }, run => run.InferenceServices[0].JoinedRun is not null);
        foreach (var response in responses) response.Dispose();
    }

    [Fact]
    public async Task An_empty_list_heals_every_InferenceService_with_a_pvc_storage_uri()
    {
        fixture.AddInferenceService("on-pvc");
        fixture.AddInferenceService("on-s3").StorageUri = "s3://bucket/model";
        await WriteModelAsync("on-pvc");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","runId":"all"}"""), Ct);
        var finished = await Api.WaitFinishedAsync(host.Client, "all");

        Assert.Equal(RunStates.Succeeded, finished.State);
        Assert.Equal(["on-pvc"], finished.InferenceServices.Select(item => item.Name));
    }

    [Fact]
    public async Task A_namespace_without_pvc_InferenceServices_fails_the_run_with_a_message()
    {
        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"empty","runId":"nothing"}"""), Ct);
        var finished = await Api.WaitFinishedAsync(host.Client, "nothing");

        Assert.Equal(RunStates.Failed, finished.State);
        Assert.Contains("No InferenceService in namespace empty has a pvc:// storageUri", finished.Message);
    }

    [Fact]
    public async Task A_failed_InferenceService_fails_the_run()
    {
        fixture.AddInferenceService("never");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["never"],"runId":"late","artifactTimeoutSeconds":1}"""), Ct);
        var finished = await Api.WaitFinishedAsync(host.Client, "late");

        Assert.Equal(RunStates.Failed, finished.State);
        Assert.Equal(Phases.Failed, finished.InferenceServices[0].Phase);
        Assert.Contains("within 1 second", finished.InferenceServices[0].Message);
    }

    [Fact]
    public async Task A_long_poll_returns_as_soon_as_the_run_changes()
    {
        fixture.AddInferenceService("polled");
        using var started = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["polled"],"runId":"poll"}"""), Ct);
        var run = await Api.ReadRunAsync(started);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        bounded.CancelAfter(TimeSpan.FromSeconds(90)); // far below waitSeconds=600: only an early return gets here

        var polling = host.Client.SendAsync(Api.Get($"v1/runs/poll?waitSeconds=600&after={run.Version}"), bounded.Token);
        await WriteModelAsync("polled");
        using var changed = await polling;

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.True((await Api.ReadRunAsync(changed)).Version > run.Version);
    }

    [Fact]
    public async Task Without_a_valid_token_nothing_is_started_and_the_answer_is_401()
    {
        fixture.AddInferenceService("guarded");
        await WriteModelAsync("guarded");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["guarded"]}""", token: null), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        await Api.ReadProblemAsync(response);
        Assert.Equal(0, fixture.Cluster.Writes);
    }

    [Fact]
    public async Task A_caller_who_may_not_patch_InferenceServices_there_gets_403_and_nothing_changes()
    {
        fixture.AddInferenceService("guarded");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"locked","inferenceServices":["guarded"]}"""), Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await Api.ReadProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty("namespace", out _));
        Assert.Equal(0, fixture.Cluster.Writes);
    }

    [Fact]
    public async Task When_the_caller_cannot_be_checked_the_answer_is_503_and_nothing_changes()
    {
        fixture.AddInferenceService("guarded");
        await WriteModelAsync("guarded");

        using var response = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["guarded"]}""", FakeAuthorizer.Unavailable), Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        await Api.ReadProblemAsync(response);
        Assert.Equal(0, fixture.Cluster.Writes);
    }

    [Fact]
    public async Task An_unknown_run_and_a_run_the_caller_may_not_see_answer_alike()
    {
        fixture.AddInferenceService("secret", annotations: null);
        using var created = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["secret"],"runId":"known","artifactTimeoutSeconds":1}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);

        // "limited" may act only in "ns": make a run in another namespace it may not see.
        fixture.Cluster.Add("elsewhere", "pvc://model-storage-pvc/x", fixture.Folder("x"), @namespace: "other");
        using var other = await host.Client.SendAsync(Api.Post("""{"namespace":"other","inferenceServices":["elsewhere"],"runId":"hidden","artifactTimeoutSeconds":1}"""), Ct);
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);

        using var hidden = await host.Client.SendAsync(Api.Get("v1/runs/hidden", FakeAuthorizer.Limited), Ct);
        using var unknown = await host.Client.SendAsync(Api.Get("v1/runs/never-existed", FakeAuthorizer.Limited), Ct);
        using var hiddenNoToken = await host.Client.SendAsync(Api.Get("v1/runs/hidden", null), Ct);
        using var unknownNoToken = await host.Client.SendAsync(Api.Get("v1/runs/never-existed", null), Ct);
        using var visible = await host.Client.SendAsync(Api.Get("v1/runs/known", FakeAuthorizer.Limited), Ct);

        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(WithoutTraceId(await Api.ReadProblemAsync(hidden)), WithoutTraceId(await Api.ReadProblemAsync(unknown)));
        Assert.Equal(HttpStatusCode.Unauthorized, hiddenNoToken.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, unknownNoToken.StatusCode);
        Assert.Equal(HttpStatusCode.OK, visible.StatusCode);
    }

    private static string WithoutTraceId(System.Text.Json.JsonElement problem) =>
        string.Join("|", problem.EnumerateObject().Where(property => property.Name != "traceId").Select(property => property.ToString()));

    [Fact]
    public async Task Runs_are_listed_per_namespace()
    {
        fixture.AddInferenceService("listed");
        using var created = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["listed"],"runId":"list-me","artifactTimeoutSeconds":1}"""), Ct);

        using var listed = await host.Client.SendAsync(Api.Get("v1/runs?namespace=ns"), Ct);
        using var missingNamespace = await host.Client.SendAsync(Api.Get("v1/runs"), Ct);

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains("\"list-me\"", await listed.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, missingNamespace.StatusCode);
        await Api.ReadProblemAsync(missingNamespace);
    }

    [Fact]
    public async Task Health_readiness_and_metrics_answer_without_a_token()
    {
        using var health = await host.Client.GetAsync("healthz", Ct);
        using var ready = await host.Client.GetAsync("readyz", Ct);
        using var metrics = await host.Client.GetAsync("metrics", Ct);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        var text = await metrics.Content.ReadAsStringAsync(Ct);
        Assert.Contains("argohooks_phase_duration_seconds", text);
        Assert.Contains("argohooks_restarts_total", text);
    }
}
