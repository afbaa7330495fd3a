using System.Collections.Concurrent;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ArgoHooks.HookService.Tests.Kubernetes;

/// <summary>The pods adapter through the real client against a canned API answer (the emulator deletes pods at once,
/// so a terminating pod can only be shown this way).</summary>
public class PredictorPodsApiTests
{
    private const string PodList = """
        {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[
          {"metadata":{"name":"m-predictor-new","namespace":"ns","uid":"u1","creationTimestamp":"2026-01-01T00:00:10Z"},
           "spec":{"containers":[{"name":"kserve-container","image":"i","ports":[{"containerPort":9000,"protocol":"TCP"}]}]},
           "status":{"phase":"Running","podIP":"10.1.2.3","conditions":[{"type":"Ready","status":"True"}],
             "containerStatuses":[{"name":"kserve-container","ready":true,"restartCount":0,"image":"i","imageID":"","state":{"running":{"startedAt":"2026-01-01T00:00:12Z"}}}]}},
          {"metadata":{"name":"m-predictor-old","namespace":"ns","uid":"u0","creationTimestamp":"2026-01-01T00:00:00Z","deletionTimestamp":"2026-01-01T00:00:11Z"},
           "spec":{"containers":[{"name":"kserve-container","image":"i"}]},
           "status":{"phase":"Running","podIP":"10.1.2.2","conditions":[{"type":"Ready","status":"True"}]}},
          {"metadata":{"name":"m-predictor-done","namespace":"ns","uid":"u2"},
           "spec":{"containers":[{"name":"kserve-container","image":"i"}]},
           "status":{"phase":"Failed"}}
        ]}
        """;

    [Theory]
    [InlineData("RawDeployment", null, "serving.kserve.io/inferenceservice=m,component=predictor")]
    [InlineData("Serverless", "m-predictor-00003", "serving.kserve.io/inferenceservice=m,component=predictor,serving.knative.dev/revision=m-predictor-00003")]
    public async Task Lists_by_selector_and_drops_terminating_and_finished_pods(string mode, string? revision, string selector)
    {
        var selectors = new ConcurrentQueue<string>();
        await using var api = await LoopbackServer.StartAsync(async context =>
        {
            selectors.Enqueue(context.Request.Query["labelSelector"].ToString());
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(PodList);
        });
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ArgoHooks:Kubernetes:Host"] = api.BaseAddress.ToString(),
            ["ArgoHooks:Kubernetes:Token"] = "t",
        }).Build();
        await using var provider = new ServiceCollection().AddLogging().AddKubernetesAdapters(configuration).BuildServiceProvider();
        var isvc = new InferenceServiceSnapshot("ns", "m", "u", 1, "1", new Dictionary<string, string>(), mode, null, "m", null, revision, revision);

        var pods = await provider.GetRequiredService<IPredictorPods>().ListAsync(isvc, TestContext.Current.CancellationToken);

        Assert.Equal([selector], selectors.ToArray());
        var pod = Assert.Single(pods);
        Assert.Equal("m-predictor-new", pod.Name);
        Assert.Equal(new Uri("http://10.1.2.3:9000/"), pod.Endpoint);
        Assert.True(pod.Ready);
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 12, TimeSpan.Zero), pod.StartedAt);
    }
}
