using ArgoHooks.HookService.Continuous;
using ArgoHooks.HookService.Hosting;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Continuous;

public sealed class ContinuousUnitTests
{
    [Fact]
    public void Defaults_are_valid_and_continuous_verification_is_off()
    {
        var options = new ContinuousOptions();
        Assert.False(options.Enabled);
        Assert.True(new ContinuousOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromMinutes(10), options.MinRestartInterval);
    }

    [Theory]
    [InlineData("Namespaces:0", "Team_A", "ArgoHooks:Continuous:Namespaces:0")]
    [InlineData("WatchNamespaces:0", "-x", "ArgoHooks:Continuous:WatchNamespaces:0")]
    [InlineData("ArtifactPollMaxInterval", "00:00:00.010", "ArgoHooks:Continuous:ArtifactPollMaxInterval")]
    [InlineData("LeaderElection:LeaseName", "Not A Name", "ArgoHooks:Continuous:LeaderElection:LeaseName")]
    [InlineData("LeaderElection:LeaseDuration", "00:00:00.500", "ArgoHooks:Continuous:LeaderElection:LeaseDuration")]
    [InlineData("LeaderElection:RenewDeadline", "00:00:20", "ArgoHooks:Continuous:LeaderElection:RenewDeadline")]
    [InlineData("ProbeInterval", "00:00:00", "ProbeInterval")]
    [InlineData("MaxConcurrentRestarts", "0", "MaxConcurrentRestarts")]
    public async Task Bad_options_stop_the_start_with_an_error_naming_the_key(string key, string value, string named)
    {
        await using var app = HookServiceApp.Build([
            "--urls=http://127.0.0.1:0",
            "--ArgoHooks:Kubernetes:Host=http://127.0.0.1:1",
            "--ArgoHooks:Kubernetes:Token=unused",
            $"--ArgoHooks:Continuous:{key}={value}",
        ]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Guard_rails_bound_actions_per_namespace_and_globally()
    {
        var rails = new ContinuousGuardRails(Options.Create(new ContinuousOptions { MaxConcurrentRestarts = 2, MaxConcurrentRestartsPerNamespace = 1 }));
        var token = TestContext.Current.CancellationToken;
        var first = await rails.AcquireAsync("team-a", token);
        var sameNamespace = rails.AcquireAsync("team-a", token);
        Assert.False(sameNamespace.IsCompleted);

        var other = await rails.AcquireAsync("team-b", token);
        var third = rails.AcquireAsync("team-c", token);
        Assert.False(third.IsCompleted); // both global slots are taken
        Assert.Equal(0, rails.FreeGlobalSlots);

        first.Dispose();
        other.Dispose();
        other.Dispose(); // disposing twice frees nothing more
        using var secondInTeamA = await sameNamespace;
        using var thirdSlot = await third;
        Assert.Equal(0, rails.FreeGlobalSlots);
    }

    [Fact]
    public void The_folder_fingerprint_changes_with_the_model_files_only()
    {
        var folder = Directory.CreateTempSubdirectory("argohooks-fingerprint-").FullName;
        try
        {
            Assert.Equal("no-file", ArtifactFolderMonitor.Fingerprint(folder, null));
            Assert.Equal("no-folder", ArtifactFolderMonitor.Fingerprint(Path.Combine(folder, "missing"), null));
            File.WriteAllText(Path.Combine(folder, "README.txt"), "not a model");
            Assert.Equal("no-file", ArtifactFolderMonitor.Fingerprint(folder, null));

            File.WriteAllText(Path.Combine(folder, "model.pkl"), "v1");
            var first = ArtifactFolderMonitor.Fingerprint(folder, null);
            Assert.True(ArtifactFolderMonitor.HasModelFile(first));
            File.WriteAllText(Path.Combine(folder, "model.pkl"), "v2 longer");
            Assert.NotEqual(first, ArtifactFolderMonitor.Fingerprint(folder, null));
            Assert.Equal("no-file", ArtifactFolderMonitor.Fingerprint(folder, "other.joblib"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
