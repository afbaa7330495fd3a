using ArgoHooks.SyncLayout;

namespace ArgoHooks.Deploy.Tests;

/// <summary>The example layouts pass the project's own Argo CD ordering check (`argohooks check-layout`).</summary>
public sealed class SyncLayoutCheckTests
{
    private static async Task<IReadOnlyList<Finding>> CheckAsync(string folder)
    {
        var yaml = await Kustomize.RenderTextAsync(folder, TestContext.Current.CancellationToken);
        var layout = LayoutBuilder.Build(ManifestReader.Read(new StringReader(yaml), "deploy/" + folder));
        return Rules.Check(layout, new CheckOptions());
    }

    [Theory]
    [InlineData("examples/seed-deferred/app")]
    [InlineData("examples/strict/app")]
    [InlineData("job/post-sync")]
    public async Task The_layout_has_no_deadlock_and_the_job_can_log_in(string folder)
    {
        var findings = await CheckAsync(folder);
        Assert.Empty(findings.Where(finding => finding.Severity != Severity.Info).Select(finding => $"{finding.Severity} {finding.Rule}: {finding.Message}"));
    }

    [Fact]
    public async Task The_strict_example_is_waited_for_by_the_sync()
    {
        // Its verification is a Sync hook in the InferenceServices' wave, so not even an info about an un-awaited last step.
        Assert.Empty(await CheckAsync("examples/strict/app"));
    }
}
