using System.Collections.Concurrent;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Predictors;
using ArgoHooks.HookService.Tests.Kubernetes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Predictors;

public class ModelProbeTests
{
    /// <summary>Answers like a model server; records every path it was asked.</summary>
    private sealed class FakeModelServer(Func<HttpContext, Task> answer)
    {
        public ConcurrentQueue<string> Paths { get; } = new();

        public Task Handle(HttpContext context)
        {
            Paths.Enqueue($"{context.Request.Method} {context.Request.Path}");
            return answer(context);
        }
    }

    private static async Task Reply(HttpContext context, int status, string body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body);
    }

    private static IModelProbe Probe(TimeSpan? timeout = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArgoHooks:Predictors:ProbeTimeout"] = (timeout ?? TimeSpan.FromSeconds(5)).ToString(),
        }).Build();
        var provider = new ServiceCollection().AddLogging().AddPredictorProbes(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IModelProbe>();
    }

    private static PredictorPod Pod(Uri endpoint) => new("p-1", "uid", endpoint, true, null, null);

    [Fact]
    public async Task Ready_model_is_ready()
    {
        var server = new FakeModelServer(c => Reply(c, 200, """{"name":"m","ready":true}"""));
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe().ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.True(result.Ready);
        Assert.Equal(200, result.StatusCode);
        Assert.Equal(["GET /v1/models/m"], server.Paths.ToArray());
    }

    [Fact]
    public async Task Missing_model_carries_the_servers_own_words_and_never_asks_v2_health()
    {
        var server = new FakeModelServer(c => Reply(c, 404, """{"error":"Model with name m does not exist."}"""));
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe().ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.False(result.Ready);
        Assert.Equal(404, result.StatusCode);
        Assert.Equal("Model with name m does not exist.", result.Detail);
        Assert.DoesNotContain(server.Paths, p => p.Contains("/v2/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Not_ready_model_503()
    {
        var server = new FakeModelServer(c => Reply(c, 503, """{"error":"Model with name m is not ready."}"""));
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe().ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.False(result.Ready);
        Assert.Equal(503, result.StatusCode);
        Assert.Equal("Model with name m is not ready.", result.Detail);
    }

    [Fact]
    public async Task Loaded_but_not_ready_is_not_ready()
    {
        var server = new FakeModelServer(c => Reply(c, 200, """{"name":"m","ready":false}"""));
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe().ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.False(result.Ready);
        Assert.Equal(200, result.StatusCode);
    }

    [Theory]
    [InlineData(404, "404 page not found", 200, true)]
    [InlineData(405, "", 200, true)]
    [InlineData(404, "Not Found", 400, false)]
    public async Task Server_without_v1_falls_back_to_v2_model_ready(int v1Status, string v1Body, int v2Status, bool ready)
    {
        var server = new FakeModelServer(c => c.Request.Path.StartsWithSegments("/v1")
            ? Reply(c, v1Status, v1Body, "text/plain")
            : c.Request.Path == "/v2/models/m/ready"
                ? Reply(c, v2Status, v2Status == 200 ? "" : """{"error":"Request for unknown model: 'm' is not found"}""")
                : Reply(c, 200, "")); // e.g. /v2/health/ready: always 200, must never be asked
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe().ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.Equal(ready, result.Ready);
        Assert.Equal(v2Status, result.StatusCode);
        Assert.Equal(["GET /v1/models/m", "GET /v2/models/m/ready"], server.Paths.ToArray());
        if (!ready)
        {
            Assert.Equal("Request for unknown model: 'm' is not found", result.Detail);
        }
    }

    [Fact]
    public async Task Silent_server_is_not_ready_within_the_probe_timeout()
    {
        var server = new FakeModelServer(async c => await Task.Delay(Timeout.InfiniteTimeSpan, c.RequestAborted));
        await using var host = await LoopbackServer.StartAsync(server.Handle);

        var result = await Probe(TimeSpan.FromMilliseconds(200)).ProbeAsync(Pod(host.BaseAddress), "m", TestContext.Current.CancellationToken);

        Assert.False(result.Ready);
        Assert.Null(result.StatusCode);
        Assert.Contains("did not answer", result.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_pod_is_not_ready()
    {
        Uri endpoint;
        await using (var host = await LoopbackServer.StartAsync(c => Reply(c, 200, "{}")))
        {
            endpoint = host.BaseAddress; // closed again: nothing listens there any more
        }

        var result = await Probe().ProbeAsync(Pod(endpoint), "m", TestContext.Current.CancellationToken);

        Assert.False(result.Ready);
        Assert.Null(result.StatusCode);
    }

    [Fact]
    public async Task Predict_posts_the_body_and_reports_the_error_text()
    {
        var bodies = new ConcurrentQueue<string>();
        var server = new FakeModelServer(async c =>
        {
            using var reader = new StreamReader(c.Request.Body);
            bodies.Enqueue(await reader.ReadToEndAsync());
            await (bodies.Count == 1
                ? Reply(c, 200, """{"predictions":[1]}""")
                : Reply(c, 500, """{"error":"shapes (1,3) and (4,) not aligned"}"""));
        });
        await using var host = await LoopbackServer.StartAsync(server.Handle);
        var probe = Probe();

        var ok = await probe.PredictAsync(Pod(host.BaseAddress), "m", """{"instances":[[1,2,3]]}""", TestContext.Current.CancellationToken);
        var bad = await probe.PredictAsync(Pod(host.BaseAddress), "m", """{"instances":[[1,2,3]]}""", TestContext.Current.CancellationToken);

        Assert.True(ok.Ready);
        Assert.Equal("""{"predictions":[1]}""", ok.Detail);
        Assert.False(bad.Ready);
        Assert.Equal(500, bad.StatusCode);
        Assert.Equal("shapes (1,3) and (4,) not aligned", bad.Detail);
        Assert.All(server.Paths, p => Assert.Equal("POST /v1/models/m:predict", p));
        Assert.All(bodies, b => Assert.Equal("""{"instances":[[1,2,3]]}""", b));
    }

    [Fact]
    public void Bad_probe_options_fail_validation_naming_the_field()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ArgoHooks:Predictors:ProbeTimeout"] = "-00:00:01" }).Build();
        var provider = new ServiceCollection().AddLogging().AddPredictorProbes(configuration).BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<PredictorProbeOptions>>().Value);
        Assert.Contains("ArgoHooks:Predictors:ProbeTimeout", error.Message, StringComparison.Ordinal);
    }
}
