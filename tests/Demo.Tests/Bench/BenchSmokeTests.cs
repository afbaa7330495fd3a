using System.Runtime.CompilerServices;
using ArgoHooks.Demo.Baseline;
using ArgoHooks.Demo.Bench;
using k8s.Models;

namespace ArgoHooks.Demo.Tests.Bench;

/// <summary>The bench produces sane figures (never asserts speed), and the baseline follows kubectl's rules.</summary>
public sealed class BenchSmokeTests
{
    [Fact]
    public async Task The_quick_bench_produces_sane_figures_for_both_contenders()
    {
        var options = new BenchOptions
        {
            Sizes = BenchOptions.Quick.Sizes,
            Repetitions = 1,
            PredictorStartupDelay = BenchOptions.Quick.PredictorStartupDelay,
            Stagger = BenchOptions.Quick.Stagger,
            WriteDuration = BenchOptions.Quick.WriteDuration,
            WriteChunks = BenchOptions.Quick.WriteChunks,
            QuietPeriod = BenchOptions.Quick.QuietPeriod,
            BaselinePollInterval = BenchOptions.Quick.BaselinePollInterval,
            SettleInterval = BenchOptions.Quick.SettleInterval,
            PollInterval = BenchOptions.Quick.PollInterval,
            RunTimeout = BenchOptions.Quick.RunTimeout,
            Footprint = false,
            HealthCostDuration = TimeSpan.FromMilliseconds(200),
            RepositoryRoot = RepositoryRoot(),
        };
        var output = new StringWriter();

        var report = await BenchRunner.RunAsync(options, output, TestContext.Current.CancellationToken);

        var size = Assert.Single(report.Sizes);
        var ours = Assert.Single(size.ArgoHooks);
        var theirs = Assert.Single(size.Baseline);
        Assert.Equal(size.Size, ours.Done);
        Assert.Equal(0, ours.ExitCode);
        Assert.All(ours.Restarts.Values, restarts => Assert.Equal(1, restarts));
        Assert.Equal(size.Size, theirs.Done);
        Assert.All(theirs.Restarts.Values, restarts => Assert.Equal(1, restarts));
        Assert.NotNull(theirs.DoneWhileProbeFailed);
        Assert.InRange(theirs.DoneWhileProbeFailed!.Value, 0, size.Size);
        Assert.True(ours.Requests.Values.Sum() > 0 && theirs.Requests.Values.Sum() > 0);
        Assert.Contains(ours.Requests.Keys, key => key is { Verb: "patch", Resource: "inferenceservices" });
        Assert.Contains(theirs.Requests.Keys, key => key is { Verb: "patch", Resource: "deployments" });
        Assert.DoesNotContain(theirs.Requests.Keys, key => key.Resource.StartsWith("inferenceservices", StringComparison.Ordinal));
        Assert.Equal(0, ours.DoneWithPartialModel);
        Assert.Equal(size.Size, ours.DetectionSeconds.Count());
        Assert.All(ours.DetectionSeconds, seconds => Assert.True(seconds >= 0, "ArgoHooks restarted before the artifact was complete"));
        Assert.False(double.IsNaN(size.Ratio));
        Assert.NotNull(report.HealthCost);
        Assert.True(report.HealthCost!.Objects > 0 && report.HealthCost.NLuaPerSecond > 0);
        Assert.Contains("N = 3 InferenceServices", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("Health script cost", output.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2L, 1L, 1, 1, 1, 1, null, false)] // spec change not observed yet
    [InlineData(2L, 2L, 1, 0, 1, 0, null, false)] // the new ReplicaSet has no replica yet
    [InlineData(2L, 2L, 1, 1, 2, 1, null, false)] // an old replica is still terminating
    [InlineData(2L, 2L, 1, 1, 1, 0, null, false)] // the new replica is not available yet
    [InlineData(2L, 2L, 1, 1, 1, 1, null, true)]
    [InlineData(2L, 2L, 1, 0, 2, 1, "ProgressDeadlineExceeded", true)]
    public void The_baseline_decides_rollout_status_like_kubectl(
        long generation, long observed, int wanted, int updated, int replicas, int available, string? progressingReason, bool finished)
    {
        var deployment = new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "model-001-predictor", Generation = generation },
            Spec = new V1DeploymentSpec { Replicas = wanted },
            Status = new V1DeploymentStatus
            {
                ObservedGeneration = observed, UpdatedReplicas = updated, Replicas = replicas, AvailableReplicas = available,
                Conditions = progressingReason is null ? null : [new V1DeploymentCondition { Type = "Progressing", Status = "False", Reason = progressingReason }],
            },
        };

        var verdict = SeedBaseline.Evaluate(deployment);

        Assert.Equal(finished, verdict is not null);
        Assert.Equal(progressingReason is not null, verdict is { Length: > 0 });
    }

    private static string RepositoryRoot([CallerFilePath] string path = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", "..", ".."));
}
