namespace ArgoHooks.SyncLayout.Tests;

/// <summary>Argo CD's placement rules (gitops-engine hook.go, helm/type.go, helm/hook.go, syncwaves/waves.go, sync_phase.go).</summary>
public class ArgoCdOrderingTests
{
    private static Placement Place(params (string Key, string Value)[] annotations) =>
        ArgoCdOrdering.Place(annotations.ToDictionary(pair => pair.Key, pair => pair.Value));

    [Fact]
    public void A_plain_resource_is_in_the_sync_phase_wave_0()
    {
        var placement = Place();
        Assert.Equal([new SyncStep(SyncPhase.Sync, 0)], placement.Steps);
        Assert.False(placement.IsHook);
        Assert.Null(placement.InvalidWave);
    }

    [Theory]
    [InlineData("3", 3)]
    [InlineData("-1", -1)]
    [InlineData("+2", 2)]
    [InlineData("0", 0)]
    [InlineData("9000000000", 9000000000)]
    public void Sync_wave_is_parsed_like_Go_Atoi(string text, long expected)
    {
        var placement = Place(("argocd.argoproj.io/sync-wave", text));
        Assert.Equal(expected, placement.Steps.Single().Wave);
        Assert.Null(placement.InvalidWave);
    }

    [Theory]
    [InlineData(" 3")]
    [InlineData("3 ")]
    [InlineData("three")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("0x10")]
    public void A_sync_wave_that_is_not_an_integer_is_ignored_and_reported(string text)
    {
        var placement = Place(("argocd.argoproj.io/sync-wave", text));
        Assert.Equal(0, placement.Steps.Single().Wave);
        Assert.Equal(text, placement.InvalidWave);
    }

    [Fact]
    public void Helm_hook_weight_is_the_wave_when_sync_wave_is_absent_or_invalid()
    {
        Assert.Equal(4, Place(("helm.sh/hook-weight", "4")).Steps.Single().Wave);
        Assert.Equal(-5, Place(("argocd.argoproj.io/sync-wave", "x"), ("helm.sh/hook-weight", "-5")).Steps.Single().Wave);
        Assert.Equal(7, Place(("argocd.argoproj.io/sync-wave", "7"), ("helm.sh/hook-weight", "-5")).Steps.Single().Wave);
    }

    [Theory]
    [InlineData("PreSync", SyncPhase.PreSync)]
    [InlineData("Sync", SyncPhase.Sync)]
    [InlineData("PostSync", SyncPhase.PostSync)]
    [InlineData("SyncFail", SyncPhase.SyncFail)]
    [InlineData(" PostSync ", SyncPhase.PostSync)]
    public void Argo_CD_hook_annotation_sets_the_phase(string hook, SyncPhase phase)
    {
        var placement = Place(("argocd.argoproj.io/hook", hook), ("argocd.argoproj.io/sync-wave", "2"));
        Assert.True(placement.IsHook);
        Assert.Equal([new SyncStep(phase, 2)], placement.Steps);
    }

    [Fact]
    public void A_hook_with_several_types_runs_in_each_phase()
    {
        var placement = Place(("argocd.argoproj.io/hook", "PostSync,PreSync,PostSync"));
        Assert.Equal([new SyncStep(SyncPhase.PreSync, 0), new SyncStep(SyncPhase.PostSync, 0)], placement.Steps);
    }

    [Fact]
    public void Skip_alone_means_never_applied_but_Skip_with_another_type_runs_that_type()
    {
        var skipped = Place(("argocd.argoproj.io/hook", "Skip"));
        Assert.Empty(skipped.Steps);
        Assert.NotNull(skipped.NotAppliedReason);

        Assert.Equal([new SyncStep(SyncPhase.PostSync, 0)], Place(("argocd.argoproj.io/hook", "Skip,PostSync")).Steps);
    }

    [Theory]
    [InlineData("pre-install", SyncPhase.PreSync)]
    [InlineData("pre-upgrade", SyncPhase.PreSync)]
    [InlineData("post-install", SyncPhase.PostSync)]
    [InlineData("post-upgrade", SyncPhase.PostSync)]
    [InlineData("post-install,post-upgrade", SyncPhase.PostSync)]
    public void Helm_hooks_map_to_Argo_CD_phases(string helmHook, SyncPhase phase)
    {
        var placement = Place(("helm.sh/hook", helmHook), ("helm.sh/hook-weight", "-1"));
        Assert.True(placement.IsHook);
        Assert.Equal([new SyncStep(phase, -1)], placement.Steps);
    }

    [Theory]
    [InlineData("test")]
    [InlineData("pre-delete")]
    [InlineData("post-rollback")]
    public void Helm_hooks_Argo_CD_does_not_map_are_never_applied(string helmHook)
    {
        var placement = Place(("helm.sh/hook", helmHook));
        Assert.True(placement.IsHook);
        Assert.Empty(placement.Steps);
        Assert.Contains(helmHook, placement.NotAppliedReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Helm_crd_install_is_not_a_hook()
    {
        var placement = Place(("helm.sh/hook", "crd-install"));
        Assert.False(placement.IsHook);
        Assert.Equal([new SyncStep(SyncPhase.Sync, 0)], placement.Steps);
    }

    [Fact]
    public void Argo_CD_hook_annotation_wins_over_helm_and_an_unknown_one_falls_back_to_helm()
    {
        Assert.Equal(SyncPhase.Sync, Place(("argocd.argoproj.io/hook", "Sync"), ("helm.sh/hook", "post-install")).Steps.Single().Phase);
        Assert.Equal(SyncPhase.PostSync, Place(("argocd.argoproj.io/hook", "Later"), ("helm.sh/hook", "post-install")).Steps.Single().Phase);

        var unknownOnly = Place(("argocd.argoproj.io/hook", "Later"));
        Assert.True(unknownOnly.IsHook);
        Assert.Empty(unknownOnly.Steps);
    }

    [Fact]
    public void Steps_order_by_phase_before_wave()
    {
        var steps = new[] { new SyncStep(SyncPhase.PostSync, -10), new SyncStep(SyncPhase.Sync, 5), new SyncStep(SyncPhase.PreSync, 10), new SyncStep(SyncPhase.Sync, -5) };
        Assert.Equal([steps[2], steps[3], steps[1], steps[0]], steps.Order());
        Assert.Equal("wave 3", new SyncStep(SyncPhase.Sync, 3).ToString());
        Assert.Equal("the PostSync phase", new SyncStep(SyncPhase.PostSync, 0).ToString());
        Assert.Equal("the PreSync phase, wave -1", new SyncStep(SyncPhase.PreSync, -1).ToString());
    }

    [Fact]
    public void Within_a_step_Jobs_are_applied_before_custom_resources()
    {
        Assert.True(ArgoCdOrdering.KindOrder("PersistentVolumeClaim") < ArgoCdOrdering.KindOrder("Job"));
        Assert.True(ArgoCdOrdering.KindOrder("Job") < ArgoCdOrdering.KindOrder("InferenceService"));
        Assert.Equal(0, ArgoCdOrdering.KindOrder("InferenceService"));
    }
}
