using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Healing;
using ArgoHooks.HookService.Observability;
using ArgoHooks.HookService.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ArgoHooks.HookService.Tests.Fakes;

public sealed class StaticOptionsMonitor<T>(T value) : IOptionsMonitor<T>
{
    public T CurrentValue => value;
    public T Get(string? name) => value;
    public IDisposable? OnChange(Action<T, string?> listener) => null;
}

/// <summary>The healer over a <see cref="FakeCluster"/> and a temporary claims root, with short timings.</summary>
public sealed class HealerFixture : IDisposable
{
    public const string Claim = "model-storage-pvc";

    public HealerFixture()
    {
        ClaimsRoot = Directory.CreateTempSubdirectory("argohooks-claims-").FullName;
        Directory.CreateDirectory(Path.Combine(ClaimsRoot, Claim));
        Cluster = new FakeCluster();
        ArtifactOptions = new ArtifactOptions { ClaimsRoot = ClaimsRoot, SettleInterval = TimeSpan.FromMilliseconds(150), PollInterval = TimeSpan.FromMilliseconds(20) };
        RunOptions = new RunOptions
        {
            ArtifactTimeout = TimeSpan.FromSeconds(10),
            RolloutTimeout = TimeSpan.FromSeconds(2),
            VerifyTimeout = TimeSpan.FromMilliseconds(400),
            VerifyRetryInterval = TimeSpan.FromMilliseconds(20),
        };
        var artifactMonitor = new StaticOptionsMonitor<ArtifactOptions>(ArtifactOptions);
        Healer = new InferenceServiceHealer(Cluster, Cluster, Cluster, Cluster, Cluster,
            new StorageUriResolver(artifactMonitor),
            new ArtifactWaiter(artifactMonitor, TimeProvider.System, NullLogger<ArtifactWaiter>.Instance),
            new StaticOptionsMonitor<RunOptions>(RunOptions), TimeProvider.System, new HookMetrics(),
            new ActionSlots(Microsoft.Extensions.Options.Options.Create(RunOptions)), NullLogger<InferenceServiceHealer>.Instance);
    }

    public string ClaimsRoot { get; }
    public FakeCluster Cluster { get; }
    public ArtifactOptions ArtifactOptions { get; }
    public RunOptions RunOptions { get; }
    public InferenceServiceHealer Healer { get; }
    public List<HealStatus> Reported { get; } = [];

    public string Folder(string subPath) => Path.Combine(ClaimsRoot, Claim, subPath);

    public FakeInferenceService AddInferenceService(string name, string? subPath = null, int replicas = 1, IDictionary<string, string>? annotations = null)
    {
        subPath ??= name;
        Directory.CreateDirectory(Folder(subPath));
        return Cluster.Add(name, $"pvc://{Claim}/{subPath}", Folder(subPath), replicas, annotations: annotations);
    }

    public Task<HealStatus> HealAsync(string name, string runId = "run-1", TimeSpan? artifactTimeout = null) =>
        Healer.HealAsync(new HealTarget(runId, "ns", name, artifactTimeout ?? RunOptions.ArtifactTimeout), status =>
        {
            lock (Reported) Reported.Add(status);
        }, TestContext.Current.CancellationToken);

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));

    public void Dispose()
    {
        try
        {
            Directory.Delete(ClaimsRoot, recursive: true);
        }
        catch (IOException cleanup)
        {
            // A test's writer may still hold a file: the temp folder is left for the OS to clean.
            Console.Error.WriteLine($"Could not delete {ClaimsRoot}: {cleanup.Message}");
        }
    }
}
