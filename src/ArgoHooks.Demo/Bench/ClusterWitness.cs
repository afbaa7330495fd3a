using System.Collections.Concurrent;
using ArgoHooks.ClusterEmulator;

namespace ArgoHooks.Demo.Bench;

/// <summary>
/// Watches the emulator's stored state directly (no API request is counted) and remembers, per InferenceService,
/// when each argohooks.io/phase was first seen and every predictor pod that ever existed. Restarts are counted
/// from these pods — the cluster's word, not the hook service's.
/// </summary>
public sealed class ClusterWitness : IAsyncDisposable
{
    public const string InferenceServiceLabel = "serving.kserve.io/inferenceservice";

    private readonly EmulatedCluster cluster;
    private readonly string @namespace;
    private readonly TimeProvider time;
    private readonly long epoch;
    private readonly TimeSpan interval;
    private readonly ConcurrentDictionary<(string Name, string Phase), TimeSpan> phaseFirstSeen = new();
    private readonly ConcurrentDictionary<string, string> currentPhase = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (string InferenceService, TimeSpan FirstSeen)> pods = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    /// <param name="epoch">A <see cref="TimeProvider.GetTimestamp"/> value every reported time is relative to.</param>
    public ClusterWitness(EmulatedCluster cluster, string @namespace, TimeProvider time, long epoch, TimeSpan? interval = null)
    {
        this.cluster = cluster;
        this.@namespace = @namespace;
        this.time = time;
        this.epoch = epoch;
        this.interval = interval ?? TimeSpan.FromMilliseconds(25);
        SampleOnce();
        loop = SampleAsync(stop.Token);
    }

    public TimeSpan Now => time.GetElapsedTime(epoch);

    /// <summary>When the phase was first seen on the InferenceService, or null.</summary>
    public TimeSpan? FirstSeen(string name, string phase) =>
        phaseFirstSeen.TryGetValue((name, phase), out var at) ? at : null;

    /// <summary>The earliest time any of the phases was seen.</summary>
    public TimeSpan? FirstSeenAny(string name, params string[] phases) =>
        phases.Select(phase => FirstSeen(name, phase)).Where(at => at is not null).Min();

    public string? Phase(string name) => currentPhase.TryGetValue(name, out var phase) ? phase : null;

    /// <summary>Distinct predictor pods ever seen for the InferenceService.</summary>
    public int PodsCreated(string name) => pods.Values.Count(pod => pod.InferenceService == name);

    /// <summary>When each predictor pod of the InferenceService was first seen, oldest first.</summary>
    public IReadOnlyList<TimeSpan> PodTimes(string name) =>
        [.. pods.Values.Where(pod => pod.InferenceService == name).Select(pod => pod.FirstSeen).Order()];

    /// <summary>Samples once more now, so a verdict sees the latest state.</summary>
    public void Refresh() => SampleOnce();

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, cancellationToken);
                SampleOnce();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private void SampleOnce()
    {
        var now = Now;
        foreach (var isvc in cluster.List("serving.kserve.io/v1beta1", "InferenceService", @namespace))
        {
            var name = isvc["metadata"]?["name"]?.GetValue<string>();
            var phase = isvc["metadata"]?["annotations"]?["argohooks.io/phase"]?.GetValue<string>();
            if (name is null || phase is null)
            {
                continue;
            }

            currentPhase[name] = phase;
            phaseFirstSeen.TryAdd((name, phase), now);
        }

        foreach (var pod in cluster.List("v1", "Pod", @namespace))
        {
            var podName = pod["metadata"]?["name"]?.GetValue<string>();
            var owner = pod["metadata"]?["labels"]?[InferenceServiceLabel]?.GetValue<string>();
            if (podName is not null && owner is not null)
            {
                pods.TryAdd(podName, (owner, now));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}
