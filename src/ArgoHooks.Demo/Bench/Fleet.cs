using System.Security.Cryptography;
using System.Text;
using ArgoHooks.ClusterEmulator;

namespace ArgoHooks.Demo.Bench;

/// <summary>
/// N InferenceServices in the seed's shape (sklearn, <c>pvc://CLAIM/NAME</c>, deferred gate), created on an emulator
/// before their models exist, and the model files written later, staggered — the same inputs for every contender.
/// </summary>
public sealed class Fleet(string @namespace, string claim, IReadOnlyList<string> names)
{
    public const string ModelFile = "model.pkl";

    public string Namespace { get; } = @namespace;
    public string Claim { get; } = claim;
    public IReadOnlyList<string> Names { get; } = names;

    public static Fleet Numbered(string @namespace, string claim, int count, string prefix = "model") =>
        new(@namespace, claim, [.. Enumerable.Range(1, count).Select(index => $"{prefix}-{index:000}")]);

    public static string Manifest(string name, string @namespace, string claim, string gate = "deferred") => $$"""
        apiVersion: serving.kserve.io/v1beta1
        kind: InferenceService
        metadata:
          name: {{name}}
          namespace: {{@namespace}}
          annotations:
            serving.kserve.io/deploymentMode: RawDeployment
            argohooks.io/gate: {{gate}}
        spec:
          predictor:
            model:
              modelFormat:
                name: sklearn
              storageUri: pvc://{{claim}}/{{name}}
        """;

    public string ArtifactPath(EmulatedCluster cluster, string name) => Path.Combine(cluster.Storage.ClaimDirectory(Claim), name, ModelFile);

    /// <summary>Creates the (empty) model folders and the InferenceServices, then waits until every predictor runs with no model.</summary>
    public async Task CreateAsync(EmulatedCluster cluster, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cluster.EnsureNamespace(Namespace);
        var claimFolder = cluster.Storage.ClaimDirectory(Claim);
        foreach (var name in Names)
        {
            Directory.CreateDirectory(Path.Combine(claimFolder, name));
            await cluster.ApplyAsync(Manifest(name, Namespace, Claim), cancellationToken);
        }

        await cluster.WaitUntilAsync(_ => AllPredictorsAvailable(cluster), timeout, cancellationToken);
    }

    public bool AllPredictorsAvailable(EmulatedCluster cluster)
    {
        var running = cluster.ModelServers
            .Where(server => server.Namespace == Namespace && server.State == ModelServerState.Running)
            .Select(server => server.ModelName)
            .ToHashSet(StringComparer.Ordinal);
        return Names.All(running.Contains) && Names.All(name =>
            cluster.Get("apps/v1", "Deployment", Namespace, name + "-predictor")?["status"]?["availableReplicas"]?.ToJsonString() is "1" or "2" or "3");
    }

    /// <summary>Deterministic model bytes for a name and a round, so every contender gets the same file.</summary>
    public static byte[] ModelBytes(string name, int round, int size = 64 * 1024)
    {
        var seed = SHA256.HashData(Encoding.UTF8.GetBytes($"{name}/{round}"));
        var bytes = new byte[size];
        for (var offset = 0; offset < size; offset += seed.Length)
        {
            seed = SHA256.HashData(seed);
            seed.AsSpan(0, Math.Min(seed.Length, size - offset)).CopyTo(bytes.AsSpan(offset));
        }

        bytes[0] = (byte)'M'; // never "CORRUPT...": the simulated server treats that prefix as an unloadable model
        return bytes;
    }

    /// <summary>
    /// Writes <see cref="ModelFile"/> for each InferenceService in turn, one every <paramref name="stagger"/>, each in
    /// <paramref name="chunks"/> writes spread over <paramref name="writeDuration"/>. Returns when each file was
    /// complete (its last write), relative to <paramref name="epoch"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, TimeSpan>> WriteArtifactsAsync(
        EmulatedCluster cluster, int round, TimeSpan stagger, TimeSpan writeDuration, int chunks, TimeProvider time, long epoch,
        CancellationToken cancellationToken)
    {
        var writers = new List<Task<(string Name, TimeSpan StableAt)>>();
        foreach (var (name, index) in Names.Select((name, index) => (name, index)))
        {
            if (index > 0)
            {
                await Task.Delay(stagger, time, cancellationToken);
            }

            writers.Add(WriteAndTimeAsync(name));
        }

        var results = await Task.WhenAll(writers);

        async Task<(string Name, TimeSpan StableAt)> WriteAndTimeAsync(string name)
        {
            var lastWrite = await WriteOneAsync(ArtifactPath(cluster, name), ModelBytes(name, round), chunks, writeDuration, time, cancellationToken);
            return (name, TimeSpan.FromSeconds((lastWrite - epoch) / (double)time.TimestampFrequency));
        }
        return results.ToDictionary(result => result.Name, result => result.StableAt, StringComparer.Ordinal);
    }

    /// <returns>The <see cref="TimeProvider.GetTimestamp"/> right after the last write: from then on the file is stable.</returns>
    public static async Task<long> WriteOneAsync(string path, byte[] content, int chunks, TimeSpan writeDuration, TimeProvider time, CancellationToken cancellationToken)
    {
        var lastWrite = time.GetTimestamp();
        chunks = Math.Max(1, chunks);
        var chunkSize = (content.Length + chunks - 1) / chunks;
        var pause = chunks > 1 ? writeDuration / (chunks - 1) : TimeSpan.Zero;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            var offset = chunk * chunkSize;
            await file.WriteAsync(content.AsMemory(offset, Math.Min(chunkSize, content.Length - offset)), cancellationToken);
            await file.FlushAsync(cancellationToken);
            lastWrite = time.GetTimestamp();
            if (chunk < chunks - 1)
            {
                await Task.Delay(pause, time, cancellationToken);
            }
        }

        return lastWrite;
    }

    public static string Digest(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));
}
