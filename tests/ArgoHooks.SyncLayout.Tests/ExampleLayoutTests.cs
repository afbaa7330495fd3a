namespace ArgoHooks.SyncLayout.Tests;

/// <summary>The repository's own example layouts, rendered (testdata/*.rendered.yaml), through the command end to end.</summary>
public class ExampleLayoutTests
{
    [Fact]
    public async Task Seed_layout_with_deferred_is_ok()
    {
        var result = await Cli.RunAsync([Cli.TestData("seed-deferred.rendered.yaml")]);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        Assert.Contains("OK:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning  ", result.Output, StringComparison.Ordinal);
        Assert.Contains("InferenceService/anomaly-detector", result.Output, StringComparison.Ordinal);
        Assert.Contains("Job/write-model-anomaly-detector (wave 3)", result.Output, StringComparison.Ordinal);
        Assert.Contains("Job/argohooks-verify-models (wave 5)", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dump()
    {
        foreach (var file in new[] { "seed-deferred.rendered.yaml", "strict.rendered.yaml" })
        {
            var result = await Cli.RunAsync([Cli.TestData(file)]);
            TestContext.Current.SendDiagnosticMessage(result.ExitCode + "\n" + result.Output + result.Error);
            File.WriteAllText("/tmp/layout-" + file + ".txt", result.ExitCode + "\n" + result.Output + result.Error);
        }
    }
}
