using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Runs;
using ArgoHooks.HookService.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Runs;

public sealed class OptionsAndBoundsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("ArgoHooks:Runs:MaxParallelInferenceServices", "0", "MaxParallelInferenceServices")]
    [InlineData("ArgoHooks:Runs:VerifyTimeout", "00:00:00", "VerifyTimeout")]
    [InlineData("ArgoHooks:Artifacts:SettleInterval", "02:00:00", "SettleInterval")]
    [InlineData("ArgoHooks:Runs:MaxWaitSeconds", "-1", "MaxWaitSeconds")]
    public async Task Invalid_options_stop_the_service_at_start_naming_the_option(string key, string value, string expected)
    {
        using var fixture = new HealerFixture();

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            ServiceHost.StartWithFakesAsync(fixture, new FakeAuthorizer(), new Dictionary<string, string> { [key] = value }));

        Assert.Contains(expected, failure.Message);
    }

    [Fact]
    public async Task Artifact_waits_are_not_bounded_but_at_most_MaxParallelInferenceServices_restart_at_once()
    {
        using var fixture = new HealerFixture();
        var rollouts = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Cluster.RolloutGate = rollouts.Task;
        await using var host = await ServiceHost.StartWithFakesAsync(fixture, new FakeAuthorizer(),
            new Dictionary<string, string> { ["ArgoHooks:Runs:MaxParallelInferenceServices"] = "1" });
        fixture.AddInferenceService("first");
        fixture.AddInferenceService("second");
        using var created = await host.Client.SendAsync(Api.Post("""{"namespace":"ns","inferenceServices":["first","second"],"runId":"bounded"}"""), Ct);
        var run = await Api.ReadRunAsync(created);
        while (run.InferenceServices.Any(item => item.Phase != Phases.AwaitingArtifact))
        {
            using var polled = await host.Client.SendAsync(Api.Get($"v1/runs/bounded?waitSeconds=30&after={run.Version}"), Ct);
            run = await Api.ReadRunAsync(polled);
        }

        // Both wait for their files at once (a slow writer never holds up a ready file); only one may act.
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("first"), "model.pkl"), [1], Ct);
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("second"), "model.pkl"), [2], Ct);
        while (fixture.Cluster.RolloutsInProgress == 0)
        {
            await Task.Delay(20, Ct);
        }

        await Task.Delay(500, Ct); // time enough for the second artifact to settle and, were it allowed, to restart
        Assert.Equal(1, fixture.Cluster.TotalRestarts);

        rollouts.SetResult();
        var finished = await Api.WaitFinishedAsync(host.Client, "bounded");
        Assert.Equal(RunStates.Succeeded, finished.State);
        Assert.Equal(2, fixture.Cluster.TotalRestarts);
        Assert.Equal(1, fixture.Cluster.MaxConcurrentRollouts);
    }
}
