using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using ArgoHooks.HookService.Artifacts;
using ArgoHooks.HookService.Healing;

namespace ArgoHooks.HookService.Tests.Fakes;

/// <summary>
/// An in-memory cluster implementing every port: InferenceServices with annotations, resourceVersions and
/// generations; predictor pods that, like the sklearn server, look for exactly one model file once when they
/// start and serve it or nothing. Restarts replace the pods. Every write is counted so tests can assert
/// "nothing changed" and "exactly one restart".
/// </summary>
public sealed class FakeCluster : IInferenceServiceStore, IPredictorRestarter, IRolloutWatcher, IPredictorPods, IModelProbe
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, FakeInferenceService> services = new(StringComparer.Ordinal);
    private long resourceVersion = 100;
    private int podCounter;

    public FakeCluster(TimeProvider? time = null) => Time = time ?? TimeProvider.System;

    public TimeProvider Time { get; }
    public string Strategy { get; set; } = "inferenceservice";
    public ConcurrentQueue<(string Name, PhaseRecord Record)> PhaseWrites { get; } = new();
    public ConcurrentDictionary<string, int> Restarts { get; } = new(StringComparer.Ordinal);
    public int TotalRestarts => Restarts.Values.Sum();
    public int Writes => PhaseWrites.Count + TotalRestarts;

    /// <summary>When set, the next restart of that InferenceService fails with 409 after this action ran (e.g. another writer).</summary>
    public ConcurrentDictionary<string, Action> ConflictBeforeRestart { get; } = new(StringComparer.Ordinal);
    public RolloutOutcome RolloutOutcome { get; set; } = new(RolloutResult.Complete, null, "complete");
    public ProbeResult? SmokeAnswer { get; set; }
    public Func<string, string>? ModelFolderOf { get; set; }

    /// <summary>Adds an InferenceService whose pods start now (so before any model is written).</summary>
    public FakeInferenceService Add(string name, string storageUri, string modelFolder, int replicas = 1, string @namespace = "ns",
        IDictionary<string, string>? annotations = null)
    {
        lock (gate)
        {
            var isvc = new FakeInferenceService(@namespace, name, storageUri, modelFolder);
            foreach (var (key, value) in annotations ?? new Dictionary<string, string>())
            {
                isvc.Annotations[key] = value;
            }

            isvc.ResourceVersion = NextVersion();
            services[Key(@namespace, name)] = isvc;
            StartPods(isvc, replicas);
            return isvc;
        }
    }

    public FakeInferenceService Get(string name, string @namespace = "ns")
    {
        lock (gate) return services[Key(@namespace, name)];
    }

    public IReadOnlyList<string> PhasesOf(string name) => PhaseWrites.Where(write => write.Name == name).Select(write => write.Record.Phase).ToList();

    /// <summary>Replaces the pods as a restart would (new pods load what is on disk now), without counting a restart.</summary>
    /// <param name="startedLater">Added to the pods' start time: Kubernetes reports startedAt in whole seconds, so
    /// "clearly after the artifact" means a later second.</param>
    public void RecreatePods(string name, TimeSpan startedLater, string @namespace = "ns")
    {
        lock (gate)
        {
            var isvc = services[Key(@namespace, name)];
            StartPods(isvc, isvc.Pods.Count, startedLater);
        }
    }

    // IInferenceServiceStore
    public Task<InferenceServiceSnapshot?> GetAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        lock (gate) return Task.FromResult(services.TryGetValue(Key(@namespace, name), out var isvc) ? Snapshot(isvc) : null);
    }

    public Task<IReadOnlyList<InferenceServiceSnapshot>> ListAsync(string @namespace, CancellationToken cancellationToken)
    {
        lock (gate) return Task.FromResult<IReadOnlyList<InferenceServiceSnapshot>>(services.Values.Where(isvc => isvc.Namespace == @namespace).Select(Snapshot).ToList());
    }

    public Task<InferenceServiceSnapshot> RecordPhaseAsync(InferenceServiceSnapshot current, PhaseRecord record, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var isvc = services[Key(current.Namespace, current.Name)];
            Apply(isvc, record);
            PhaseWrites.Enqueue((isvc.Name, record));
            return Task.FromResult(Snapshot(isvc));
        }
    }

    // IPredictorRestarter
    public Task<RestartTicket> RestartAsync(InferenceServiceSnapshot current, PhaseRecord restarting, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var isvc = services[Key(current.Namespace, current.Name)];
            if (ConflictBeforeRestart.TryRemove(isvc.Name, out var other))
            {
                other();
            }

            if (isvc.ResourceVersion != current.ResourceVersion)
            {
                throw new ConcurrentChangeException($"resourceVersion {current.ResourceVersion} is stale");
            }

            var restartedAt = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
            isvc.RestartedAt = restartedAt;
            isvc.Generation++;
            Apply(isvc, restarting with { Generation = isvc.Generation });
            PhaseWrites.Enqueue((isvc.Name, restarting));
            Restarts.AddOrUpdate(isvc.Name, 1, (_, count) => count + 1);
            StartPods(isvc, isvc.Pods.Count);
            return Task.FromResult(new RestartTicket(Snapshot(isvc), restartedAt));
        }
    }

    /// <summary>Simulates another writer of the same run restarting it (annotations + pods) behind the algorithm's back.</summary>
    public void RestartFromElsewhere(string name, string runId, string @namespace = "ns")
    {
        lock (gate)
        {
            var isvc = services[Key(@namespace, name)];
            isvc.Generation++;
            isvc.RestartedAt = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);
            Apply(isvc, new PhaseRecord(Phases.Restarting, isvc.Generation, "restarted by another replica", runId));
            Restarts.AddOrUpdate(isvc.Name, 1, (_, count) => count + 1);
            StartPods(isvc, isvc.Pods.Count);
        }
    }

    // IRolloutWatcher
    public async Task<RolloutOutcome> WaitAsync(InferenceServiceSnapshot isvc, RestartTicket? restart, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var inProgress = Interlocked.Increment(ref rolloutsInProgress);
        lock (Restarts)
        {
            MaxConcurrentRollouts = Math.Max(MaxConcurrentRollouts, inProgress);
        }

        try
        {
            if (RolloutGate is { } gate)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return RolloutError is { } error ? throw error : RolloutOutcome;
        }
        finally
        {
            Interlocked.Decrement(ref rolloutsInProgress);
        }
    }

    private int rolloutsInProgress;

    /// <summary>When set, every rollout wait first waits for it: tests hold rollouts open to see how many run at once.</summary>
    public Task? RolloutGate { get; set; }

    public int RolloutsInProgress => Volatile.Read(ref rolloutsInProgress);

    public int MaxConcurrentRollouts { get; private set; }

    /// <summary>When set, the rollout wait throws it (e.g. the API server gone after every retry).</summary>
    public Exception? RolloutError { get; set; }

    // IPredictorPods
    public Task<IReadOnlyList<PredictorPod>> ListAsync(InferenceServiceSnapshot isvc, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var pods = services[Key(isvc.Namespace, isvc.Name)].Pods;
            return Task.FromResult<IReadOnlyList<PredictorPod>>(pods.Select(pod => pod.Pod).ToList());
        }
    }

    // IModelProbe
    public Task<ProbeResult> ProbeAsync(PredictorPod pod, string modelName, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            var fake = services.Values.SelectMany(isvc => isvc.Pods).Single(candidate => candidate.Pod.Uid == pod.Uid);
            return Task.FromResult(fake.LoadedDigest is null
                ? new ProbeResult(false, 404, $"Model with name {modelName} does not exist.")
                : new ProbeResult(true, 200, "ready"));
        }
    }

    public Task<ProbeResult> PredictAsync(PredictorPod pod, string modelName, string requestJson, CancellationToken cancellationToken) =>
        Task.FromResult(SmokeAnswer ?? new ProbeResult(true, 200, "{\"predictions\":[1]}"));

    public string? LoadedDigest(string name, string @namespace = "ns")
    {
        lock (gate) return services[Key(@namespace, name)].Pods.Select(pod => pod.LoadedDigest).Distinct().Single();
    }

    private void StartPods(FakeInferenceService isvc, int replicas, TimeSpan startedLater = default)
    {
        isvc.Pods.Clear();
        for (var i = 0; i < replicas; i++)
        {
            var id = Interlocked.Increment(ref podCounter);
            var pod = new PredictorPod($"{isvc.Name}-predictor-{id}", $"uid-{id}", new Uri($"http://127.0.0.1:{9000 + id}"), true,
                WholeSecond(Time.GetUtcNow() + startedLater), isvc.RestartedAt);
            isvc.Pods.Add(new FakePod(pod, LoadOnce(isvc.ModelFolder)));
        }
    }

    /// <summary>The sklearn rule at start-up: exactly one model file directly in the folder, else no model.</summary>
    private static string? LoadOnce(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return null;
        }

        var models = Directory.EnumerateFiles(folder).Where(file => ArtifactWaiter.ModelExtensions.Any(extension => file.EndsWith(extension, StringComparison.Ordinal))).ToList();
        return models.Count == 1 ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(models[0]))) : null;
    }

    private void Apply(FakeInferenceService isvc, PhaseRecord record)
    {
        isvc.Annotations[ContractAnnotations.Phase] = record.Phase;
        isvc.Annotations[ContractAnnotations.Generation] = record.Generation.ToString(CultureInfo.InvariantCulture);
        isvc.Annotations[ContractAnnotations.Message] = record.Message;
        isvc.Annotations[ContractAnnotations.Run] = record.RunId;
        if (record.ArtifactDigest is not null) isvc.Annotations[ContractAnnotations.ArtifactDigest] = record.ArtifactDigest;
        if (record.VerifiedAt is { } verifiedAt) isvc.Annotations[ContractAnnotations.VerifiedAt] = verifiedAt.ToString("O", CultureInfo.InvariantCulture);
        isvc.ResourceVersion = NextVersion();
    }

    private string NextVersion() => (++resourceVersion).ToString(CultureInfo.InvariantCulture);

    private static InferenceServiceSnapshot Snapshot(FakeInferenceService isvc) => new(
        isvc.Namespace, isvc.Name, "uid-" + isvc.Name, isvc.Generation, isvc.ResourceVersion,
        new Dictionary<string, string>(isvc.Annotations, StringComparer.Ordinal),
        "RawDeployment", isvc.StorageUri,
        isvc.Annotations.TryGetValue(ContractAnnotations.ModelName, out var model) ? model : isvc.Name,
        isvc.RestartedAt, null, null);

    /// <summary>Kubernetes reports container startedAt in whole seconds.</summary>
    private static DateTimeOffset WholeSecond(DateTimeOffset value) => new(value.Ticks - value.Ticks % TimeSpan.TicksPerSecond, value.Offset);

    private static string Key(string @namespace, string name) => @namespace + "/" + name;
}

public sealed class FakeInferenceService(string @namespace, string name, string storageUri, string modelFolder)
{
    public string Namespace { get; } = @namespace;
    public string Name { get; } = name;
    public string StorageUri { get; set; } = storageUri;
    public string ModelFolder { get; } = modelFolder;
    public long Generation { get; set; } = 1;
    public string ResourceVersion { get; set; } = "";
    public string? RestartedAt { get; set; }
    public Dictionary<string, string> Annotations { get; } = new(StringComparer.Ordinal);
    public List<FakePod> Pods { get; } = [];
}

public sealed record FakePod(PredictorPod Pod, string? LoadedDigest);
