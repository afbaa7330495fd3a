using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace ArgoHooks.HookService.Tests.Artifacts;

public sealed class ArtifactWaiterTests : IDisposable
{
    private readonly HealerFixture fixture = new();
    private readonly StorageUriResolver resolver;
    private readonly ArtifactWaiter waiter;
    private readonly List<string> waitingMessages = [];

    public ArtifactWaiterTests()
    {
        var monitor = new StaticOptionsMonitor<ArtifactOptions>(fixture.ArtifactOptions);
        resolver = new StorageUriResolver(monitor);
        waiter = new ArtifactWaiter(monitor, TimeProvider.System, NullLogger<ArtifactWaiter>.Instance);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => fixture.Dispose();

    private Task<ArtifactWaitResult> WaitAsync(string storageUri, string? artifactOverride = null, int timeoutMs = 400)
    {
        var location = resolver.Resolve(storageUri).Location ?? throw new InvalidOperationException(resolver.Resolve(storageUri).Error);
        return waiter.WaitAsync(location, artifactOverride, TimeSpan.FromMilliseconds(timeoutMs), waitingMessages.Add, Ct);
    }

    [Fact]
    public async Task A_storage_uri_naming_the_file_waits_for_that_file()
    {
        Directory.CreateDirectory(fixture.Folder("direct"));
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("direct"), "model.joblib"), [1, 2], Ct);

        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/direct/model.joblib");

        Assert.Equal("model.joblib", result.Artifact?.FileName);
        Assert.Equal(HealerFixture.Sha256([1, 2]), result.Artifact?.Digest);
    }

    [Fact]
    public async Task An_empty_file_is_never_taken_for_the_model()
    {
        Directory.CreateDirectory(fixture.Folder("empty"));
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("empty"), "model.pkl"), [], Ct);

        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/empty");

        Assert.Null(result.Artifact);
        Assert.Contains("model.pkl in pvc://model-storage-pvc/empty was still empty after 400 milliseconds", result.Error);
    }

    [Fact]
    public async Task A_file_that_keeps_changing_is_never_taken_for_the_model()
    {
        Directory.CreateDirectory(fixture.Folder("busy"));
        var path = Path.Combine(fixture.Folder("busy"), "model.pkl");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var writer = Task.Run(async () =>
        {
            await using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
            while (!stop.IsCancellationRequested)
            {
                await stream.WriteAsync(new byte[64], CancellationToken.None);
                await stream.FlushAsync(CancellationToken.None);
                await Task.Delay(30, CancellationToken.None);
            }
        }, CancellationToken.None);

        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/busy", timeoutMs: 600);
        await stop.CancelAsync();
        await writer;

        Assert.Null(result.Artifact);
        Assert.Contains("was still changing after 600 milliseconds; check that the job writing the model finished", result.Error);
        Assert.Contains(waitingMessages, message => message.Contains("to be completely written", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_folder_times_out_saying_so()
    {
        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/not-there", timeoutMs: 100);

        Assert.Contains("The folder pvc://model-storage-pvc/not-there still did not exist after 100 milliseconds", result.Error);
        Assert.Equal(["Waiting for one *.pkl, *.pickle or *.joblib file in pvc://model-storage-pvc/not-there; the timeout is 100 milliseconds."], waitingMessages);
    }

    [Fact]
    public async Task A_model_file_symlinked_to_outside_the_claim_is_refused()
    {
        var outside = Path.Combine(Path.GetTempPath(), "argohooks-outside-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(outside, [1], Ct);
        try
        {
            Directory.CreateDirectory(fixture.Folder("linked"));
            File.CreateSymbolicLink(Path.Combine(fixture.Folder("linked"), "model.pkl"), outside);

            var result = await WaitAsync($"pvc://{HealerFixture.Claim}/linked");

            Assert.Null(result.Artifact);
            Assert.Contains("model.pkl in pvc://model-storage-pvc/linked is a symlink that leads outside the PVC", result.Error);
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public async Task A_symlink_that_stays_inside_the_claim_is_followed()
    {
        Directory.CreateDirectory(fixture.Folder("versions/v2"));
        await File.WriteAllBytesAsync(Path.Combine(fixture.Folder("versions/v2"), "model.pkl"), [8], Ct);
        File.CreateSymbolicLink(fixture.Folder("current"), fixture.Folder("versions/v2"));

        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/current");

        Assert.Equal(HealerFixture.Sha256([8]), result.Artifact?.Digest);
    }

    [Theory]
    [InlineData("../outside.pkl")]
    [InlineData("/etc/passwd")]
    [InlineData("")]
    public async Task An_artifact_annotation_that_is_not_a_plain_relative_name_is_refused(string artifactOverride)
    {
        Directory.CreateDirectory(fixture.Folder("override"));

        var result = await WaitAsync($"pvc://{HealerFixture.Claim}/override", artifactOverride);

        Assert.Contains("argohooks.io/artifact annotation", result.Error);
    }

    [Fact]
    public void An_explicit_claim_folder_overrides_the_claims_root()
    {
        var elsewhere = Directory.CreateTempSubdirectory("argohooks-claim-").FullName;
        try
        {
            fixture.ArtifactOptions.Claims["mounted-elsewhere"] = elsewhere;

            var resolved = resolver.Resolve("pvc://mounted-elsewhere/models/a");

            Assert.Equal(Path.Combine(StorageUriResolver.RealPath(elsewhere)!, "models/a"), resolved.Location?.Target);
        }
        finally
        {
            Directory.Delete(elsewhere);
        }
    }
}
