using ArgoHooks.ClusterEmulator;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class EmulatorResilienceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Store_operations_succeed_through_30_percent_injected_faults()
    {
        await using var h = await EmulatorHarness.StartAsync();
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("m"), Ct);
        h.Cluster.Faults.Add(new FaultRule { PathPrefix = "/apis/serving.kserve.io/", Rate = 0.3, StatusCodes = [500, 503, 429], RetryAfterSeconds = 1 });
        h.Cluster.Faults.Add(new FaultRule { PathPrefix = "/apis/serving.kserve.io/", Rate = 0.1, ResetConnection = true });

        var current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        for (var i = 0; i < 15; i++)
        {
            current = await h.Store.RecordPhaseAsync(current, new PhaseRecord(Phases.Verifying, current.Generation, $"Probe {i}.", "run-1"), Ct);
            Assert.Single(await h.Store.ListAsync(EmulatorHarness.Namespace, Ct));
            current = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;
        }

        Assert.Equal("Probe 14.", current.Annotation(ContractAnnotations.Message));
        Assert.True(h.Cluster.Faults.InjectedCount > 0, "no fault was injected");
        Assert.True(h.Metrics.RetryTotal > 0, "no request was retried");
        Assert.True(h.Metrics.ErrorTotal >= h.Metrics.RetryTotal);
    }
}
