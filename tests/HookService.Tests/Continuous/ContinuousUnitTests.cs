using ArgoHooks.HookService.Continuous;
using ArgoHooks.HookService.Hosting;
using ArgoHooks.HookService.Artifacts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

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

    private static ArtifactLocation LocationOf(string folder) => new("pvc://claim/model", "claim", "model", Path.GetDirectoryName(folder)!, folder);

    private static IOptionsMonitor<ContinuousOptions> Monitor(ContinuousOptions options) =>
        new OptionsMonitorStub(options);

    private sealed class OptionsMonitorStub(ContinuousOptions value) : IOptionsMonitor<ContinuousOptions>
    {
        public ContinuousOptions CurrentValue => value;

        public ContinuousOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ContinuousOptions, string?> listener) => null;
    }

    [Fact]
    public async Task A_file_system_notification_wakes_the_folder_monitor_before_the_next_poll()
    {
        var root = Directory.CreateTempSubdirectory("argohooks-monitor-").FullName;
        var folder = Directory.CreateDirectory(Path.Combine(root, "model")).FullName;
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var monitor = new ArtifactFolderMonitor(Monitor(new ContinuousOptions
        {
            ArtifactPollInterval = TimeSpan.FromHours(1), ArtifactPollMaxInterval = TimeSpan.FromHours(1),
        }), time, NullLogger<ArtifactFolderMonitor>.Instance);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var changed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            monitor.Track("ns/model", LocationOf(folder), null);
            var running = monitor.RunAsync(() => true, key => changed.TrySetResult(key), stop.Token);

            await File.WriteAllTextAsync(Path.Combine(folder, "model.pkl"), "v1", TestContext.Current.CancellationToken);

            // The fake clock never moves: only the FileSystemWatcher can have woken the monitor.
            var woken = await Task.WhenAny(changed.Task, Task.Delay(TimeSpan.FromSeconds(15), TestContext.Current.CancellationToken));
            if (woken != changed.Task)
            {
                Assert.Skip("This file system did not deliver change notifications (inotify); polling covers it.");
            }

            Assert.Equal("ns/model", await changed.Task);
            await stop.CancelAsync();
            await running;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Polling_notices_a_folder_created_after_tracking_started()
    {
        var root = Directory.CreateTempSubdirectory("argohooks-monitor-").FullName;
        var folder = Path.Combine(root, "parent", "model"); // neither it nor its parent exists yet: no watcher, polling only
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-30T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        using var monitor = new ArtifactFolderMonitor(Monitor(new ContinuousOptions
        {
            ArtifactPollInterval = TimeSpan.FromSeconds(5), ArtifactPollMaxInterval = TimeSpan.FromSeconds(40),
        }), time, NullLogger<ArtifactFolderMonitor>.Instance);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var changes = new System.Collections.Concurrent.ConcurrentQueue<string>();
        try
        {
            monitor.Track("ns/model", LocationOf(folder), null);
            Assert.Equal("no-folder", monitor.CurrentFingerprint("ns/model"));
            var running = monitor.RunAsync(() => true, changes.Enqueue, stop.Token);

            var staging = Directory.CreateDirectory(Path.Combine(root, "staging")).FullName;
            await File.WriteAllTextAsync(Path.Combine(staging, "model.pkl"), "v1", TestContext.Current.CancellationToken);
            Directory.CreateDirectory(Path.Combine(root, "parent"));
            Directory.Move(staging, folder); // the folder appears with its model at once
            for (var step = 0; step < 200 && changes.IsEmpty; step++)
            {
                time.Advance(TimeSpan.FromSeconds(5));
                await Task.Yield();
                await Task.Delay(5, TestContext.Current.CancellationToken); // let the monitor's loop run on the thread pool
            }

            Assert.Equal(["ns/model"], changes);
            Assert.True(ArtifactFolderMonitor.HasModelFile(monitor.CurrentFingerprint("ns/model")!));
            await stop.CancelAsync();
            await running;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
