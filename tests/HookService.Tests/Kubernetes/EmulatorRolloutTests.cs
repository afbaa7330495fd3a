using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Kubernetes;
using k8s;

namespace ArgoHooks.HookService.Tests.Kubernetes;

public class EmulatorRolloutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static PhaseRecord Restarting(InferenceServiceSnapshot isvc) => new(Phases.Restarting, isvc.Generation, "Restarting.", "run-1");

    [Fact]
    public async Task A_rollout_that_exceeds_its_progress_deadline_fails()
    {
        // Pods that take longer to start than the deadline allows: the Deployment controller gives up.
        await using var h = await EmulatorHarness.StartAsync(emulator: o =>
        {
            o.ProgressDeadline = TimeSpan.FromMilliseconds(600);
            o.PredictorStartupDelay = TimeSpan.FromMinutes(5);
        });
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("stuck"), Ct);
        var isvc = (await h.Store.GetAsync(EmulatorHarness.Namespace, "stuck", Ct))!;

        var rollout = await h.Rollouts.WaitAsync(isvc, null, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(RolloutResult.Failed, rollout.Result);
        Assert.Equal(RolloutWatcher.ProgressDeadlineExceeded, rollout.Reason);
        Assert.Contains("progress deadline", rollout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rollout_that_does_not_finish_in_time_times_out_with_the_last_progress()
    {
        await using var h = await EmulatorHarness.StartAsync(emulator: o => o.PredictorStartupDelay = TimeSpan.FromMinutes(5));
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("slow"), Ct);
        var isvc = (await h.Store.GetAsync(EmulatorHarness.Namespace, "slow", Ct))!;

        var rollout = await h.Rollouts.WaitAsync(isvc, null, TimeSpan.FromMilliseconds(800), Ct);

        Assert.Equal(RolloutResult.TimedOut, rollout.Result);
        Assert.Contains("slow-predictor", rollout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_watch_survives_cut_streams_and_410_gone()
    {
        await using var h = await EmulatorHarness.StartAsync(emulator: o => o.PredictorStartupDelay = TimeSpan.FromMilliseconds(1500));
        var before = await h.CreateReadyAsync("m");
        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);

        var waiting = h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(30), Ct);
        var cuts = 0;
        while (!waiting.IsCompleted && cuts < 6)
        {
            await Task.Delay(150, Ct);
            h.Cluster.Faults.CompactHistory();
            cuts += h.Cluster.Faults.CutWatches();
        }

        var rollout = await waiting;
        Assert.Equal(RolloutResult.Complete, rollout.Result);
        Assert.True(cuts > 0, "the test never cut a watch");
        // One watch per WaitAsync (two here), then after every cut a resume from the last resourceVersion, which the
        // compaction made too old (410 Gone), then a fresh watch from now: more watches than cuts, and still no GET.
        Assert.True(h.Cluster.Requests.Count("watch", "deployments", EmulatorHarness.Namespace) > 2 + cuts,
            $"the watcher did not resume and then watch afresh after each of {cuts} cuts");
        Assert.Equal(0, h.Cluster.Requests.Count("get", "deployments", EmulatorHarness.Namespace));
    }

    [Fact]
    public async Task Knative_rollout_fails_when_the_revision_fails()
    {
        await using var h = await EmulatorHarness.StartAsync(emulator: o =>
        {
            o.ProgressDeadline = TimeSpan.FromMilliseconds(600);
            o.PredictorStartupDelay = TimeSpan.FromMinutes(5);
        });
        await h.Cluster.ApplyAsync(EmulatorHarness.InferenceService("kn", "Serverless"), Ct);
        var isvc = (await h.Store.GetAsync(EmulatorHarness.Namespace, "kn", Ct))!;

        var rollout = await h.Rollouts.WaitAsync(isvc, null, TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(RolloutResult.Failed, rollout.Result);
        Assert.Contains(rollout.Reason, new[] { "RevisionFailed", "RevisionMissing" });
    }

    [Theory]
    [InlineData("RawDeployment")]
    [InlineData("Serverless")]
    public async Task A_ticket_rebuilt_after_a_hook_service_restart_completes(string mode)
    {
        // The algorithm resumes with RestartTicket(snapshot, snapshot.RestartedAt) read after the restart went through.
        await using var h = await EmulatorHarness.StartAsync();
        var before = await h.CreateReadyAsync("m", mode);
        var ticket = await h.Get<IPredictorRestarter>().RestartAsync(before, Restarting(before), Ct);
        Assert.Equal(RolloutResult.Complete, (await h.Rollouts.WaitAsync(ticket.After, ticket, TimeSpan.FromSeconds(20), Ct)).Result);
        var reread = (await h.Store.GetAsync(EmulatorHarness.Namespace, "m", Ct))!;

        var resumed = await h.Rollouts.WaitAsync(reread, new RestartTicket(reread, reread.RestartedAt!), TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(RolloutResult.Complete, resumed.Result);
    }
}
